package dev.conveyor.events.v1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class RunIdsAndCloudEventsTest {

    private static final String REPO = "https://git.example.com/acme/shop-api.git";
    private static final String COMMIT = "2f1e3d4c5b6a798081726354453627181909a0b1";

    @Test
    void runIdIsDeterministicAndIgnoresUrlSpelling() {
        String id = RunIds.of(REPO, COMMIT, Flow.CD, null);
        assertThat(id).matches("r-[0-9a-f]{24}");
        assertThat(RunIds.of("https://token@Git.Example.com/acme/shop-api/", COMMIT.toUpperCase(), Flow.CD, null))
                .isEqualTo(id);
    }

    @Test
    void runIdDiffersByRepoCommitFlowAndPullRequest() {
        Set<String> ids = new HashSet<>();
        ids.add(RunIds.of(REPO, COMMIT, Flow.CD, null));
        ids.add(RunIds.of("https://git.example.com/acme/web.git", COMMIT, Flow.CD, null));
        ids.add(RunIds.of(REPO, "aaaa" + COMMIT.substring(4), Flow.CD, null));
        ids.add(RunIds.of(REPO, COMMIT, Flow.CI, 7));
        ids.add(RunIds.of(REPO, COMMIT, Flow.CI, 8));
        assertThat(ids).hasSize(5);
    }

    @Test
    void replayKeepsTheRunIdAndIncrementsTheAttempt() {
        PipelineRun run = SampleEvents.cdRun();
        PipelineRun replay = run.nextAttempt();
        assertThat(replay.runId()).isEqualTo(run.runId());
        assertThat(replay.attempt()).isEqualTo(2);
    }

    @Test
    void cloudEventAttributesFollowTheContract() {
        ConveyorEvent pushed = SampleEvents.all().get(3);
        CloudEventAttributes ce = CloudEventAttributes.of(pushed, Stage.IMAGE_BUILDER);
        assertThat(ce.type()).isEqualTo("dev.conveyor.image.pushed.v1");
        assertThat(ce.source()).isEqualTo("/conveyor/image-builder");
        assertThat(ce.subject()).isEqualTo(pushed.run().runId());
        assertThat(ce.time()).isEqualTo(pushed.occurredAt());
        assertThat(pushed.eventType().topic()).isEqualTo("conveyor.image.pushed");
    }

    @Test
    void eventIdIsStableForTheSameInputAndNewForAReplay() {
        ImagePushed pushed = (ImagePushed) SampleEvents.all().get(3);
        ImagePushed later = new ImagePushed(pushed.run(), Instant.now(), pushed.causationId(), pushed.version(),
                pushed.repository(), pushed.tags(), pushed.digest(), pushed.sizeBytes());
        ImagePushed replayed = new ImagePushed(pushed.run().nextAttempt(), pushed.occurredAt(), pushed.causationId(),
                pushed.version(), pushed.repository(), pushed.tags(), pushed.digest(), pushed.sizeBytes());
        assertThat(CloudEventAttributes.idOf(later)).isEqualTo(CloudEventAttributes.idOf(pushed));
        assertThat(CloudEventAttributes.idOf(replayed)).isNotEqualTo(CloudEventAttributes.idOf(pushed));
    }

    @Test
    void promotionsToDifferentTargetsHaveDifferentIds() {
        ReleasePromoted staging = (ReleasePromoted) SampleEvents.all().get(6);
        ReleasePromoted prod = new ReleasePromoted(staging.run(), staging.occurredAt(), staging.causationId(),
                staging.chartName(), staging.chartVersion(), staging.gitopsRepo(), "production", "shop", "shop-api",
                staging.gitopsCommit(), PromotionMode.AUTO, null);
        assertThat(CloudEventAttributes.idOf(prod)).isNotEqualTo(CloudEventAttributes.idOf(staging));
    }

    @Test
    void everyEventTypeHasItsOwnTopicAndType() {
        assertThat(EventType.values()).extracting(EventType::topic).doesNotHaveDuplicates()
                .allMatch(t -> t.startsWith("conveyor."));
        assertThat(EventType.values()).extracting(EventType::type).doesNotHaveDuplicates()
                .allMatch(t -> t.matches("dev\\.conveyor\\.[a-z]+\\.[a-z]+\\.v1"));
        assertThat(ConveyorEvent.class.getPermittedSubclasses()).containsExactlyInAnyOrder(
                java.util.Arrays.stream(EventType.values()).map(EventType::recordClass).toArray(Class<?>[]::new));
        assertThat(Topics.deadLetter(Topics.IMAGE_PUSHED, Stage.MANIFEST_RENDERER))
                .isEqualTo("conveyor.image.pushed.dlq.manifest-renderer");
    }

    @Test
    void stagesAreKnownByTheirIds() {
        assertThat(Stage.fromId("image-builder")).isEqualTo(Stage.IMAGE_BUILDER);
        assertThatThrownBy(() -> Stage.fromId("deployer")).hasMessageContaining("unknown stage 'deployer'");
    }
}
