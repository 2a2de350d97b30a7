package dev.conveyor.gateway.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.conveyor.events.v1.CloudEventAttributes;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.gateway.support.RunEvents;

class ReplaysTest {

    static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");
    static final Instant LATER = T0.plusSeconds(3600);

    static ConveyorEvent inputOf(Step step, RunEvents run) {
        return switch (step) {
            case VERSIONER -> run.build();
            case IMAGE_BUILDER -> run.version();
            case MANIFEST_RENDERER -> run.image();
            case PROMOTER -> run.manifests();
            case FLUX_SYNC -> run.promoted("prod");
            case BUILD -> throw new IllegalArgumentException();
        };
    }

    @ParameterizedTest
    @EnumSource(value = Step.class, names = "BUILD", mode = EnumSource.Mode.EXCLUDE)
    void theInputOfEachStageIsRepublishedWithTheNewAttemptAndNothingElseChanged(Step step) {
        RunEvents run = RunEvents.cd("shop", 1, T0);
        ConveyorEvent input = inputOf(step, run);
        assertThat(step.input()).contains(input.eventType());

        ConveyorEvent replayed = Replays.withAttempt(input, 3, LATER);

        assertThat(replayed.getClass()).isEqualTo(input.getClass());
        assertThat(replayed.run()).isEqualTo(run.run().nextAttempt().nextAttempt());
        assertThat(replayed.occurredAt()).isEqualTo(LATER);
        assertThat(replayed.causationId()).isEqualTo(input.causationId());
        assertThat(Replays.withAttempt(replayed, 1, input.occurredAt())).isEqualTo(input);
        assertThat(CloudEventAttributes.idOf(replayed)).isNotEqualTo(CloudEventAttributes.idOf(input));
    }

    @ParameterizedTest
    @EnumSource(value = Step.class, names = "BUILD", mode = EnumSource.Mode.EXCLUDE)
    void eachStageIsFoundByItsIdAndItsStageId(Step step) {
        assertThat(Step.fromId(step.id())).contains(step);
        assertThat(Step.fromId(step.stage().id())).contains(step);
    }

    @org.junit.jupiter.api.Test
    void anEventThatIsNoStagesInputIsRefused() {
        RunEvents run = RunEvents.cd("shop", 1, T0);
        assertThatThrownBy(() -> Replays.withAttempt(run.healthy(), 2, LATER))
                .hasMessageContaining("ReleaseHealthy is no stage's input");
    }
}
