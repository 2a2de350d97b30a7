package dev.conveyor.stage;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.conveyor.events.v1.Artifact;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.StageFailed;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

class StageRunnerTest {

    enum Reason {
        BAD_INPUT, FLAKY
    }

    private static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<Duration> sleeps = new ArrayList<>();
    private final StageRunner runner = new StageRunner(Stage.VERSIONER,
            new Backoff(4, Duration.ofMillis(100), Duration.ofSeconds(1)), new StageMetrics(registry, Stage.VERSIONER),
            Clock.fixed(NOW, ZoneOffset.UTC), sleeps::add);
    private final BuildSucceeded input = new BuildSucceeded(
            PipelineRun.start("app", "file:///r.git", "abc", "main", null, Flow.CD), NOW, null, "http://jenkins/1",
            new Artifact("file:///a.jar", "0".repeat(64), null, null), null, null);

    @Test
    void successReturnsTheWorkAndCountsIt() {
        List<ConveyorEvent> out = runner.run(input, "ce-1", attempt -> List.of(input));
        assertThat(out).containsExactly(input);
        assertThat(registry.get(StageMetrics.EVENTS_CONSUMED).tag("type", "BuildSucceeded").counter().count())
                .isEqualTo(1);
        assertThat(registry.get(StageMetrics.STAGE_DURATION).tag("outcome", "success").timer().count()).isEqualTo(1);
        assertThat(sleeps).isEmpty();
    }

    @Test
    void terminalFailuresAreNotRetriedAndBecomeStageFailed() {
        AtomicInteger calls = new AtomicInteger();
        List<ConveyorEvent> out = runner.run(input, "ce-1", attempt -> {
            calls.incrementAndGet();
            throw StageException.terminal(Reason.BAD_INPUT, "field 'version.strategy' is invalid",
                    java.util.Map.of("field", "version.strategy"));
        });
        assertThat(calls).hasValue(1);
        StageFailed failed = (StageFailed) out.get(0);
        assertThat(failed.reason()).isEqualTo("BAD_INPUT");
        assertThat(failed.retryable()).isFalse();
        assertThat(failed.causationId()).isEqualTo("ce-1");
        assertThat(failed.stage()).isEqualTo(Stage.VERSIONER);
        assertThat(failed.details()).containsEntry("field", "version.strategy").containsEntry("kind", "TERMINAL");
        assertThat(failed.occurredAt()).isEqualTo(NOW);
        assertThat(registry.get(StageMetrics.STAGE_FAILURES).tag("reason", "BAD_INPUT").counter().count())
                .isEqualTo(1);
    }

    @Test
    void transientFailuresAreRetriedWithGrowingBackoffThenReportedRetryable() {
        AtomicInteger calls = new AtomicInteger();
        List<ConveyorEvent> out = runner.run(input, "ce-1", attempt -> {
            calls.incrementAndGet();
            throw StageException.transientFailure(Reason.FLAKY, "remote hung up", null);
        });
        assertThat(calls).hasValue(4);
        assertThat(sleeps).hasSize(3);
        assertThat(sleeps.get(2)).isLessThanOrEqualTo(Duration.ofMillis(400)).isGreaterThanOrEqualTo(
                Duration.ofMillis(200));
        StageFailed failed = (StageFailed) out.get(0);
        assertThat(failed.retryable()).isTrue();
        assertThat(failed.reason()).isEqualTo("FLAKY");
    }

    @Test
    void aTransientFailureThatPassesOnRetryIsASuccess() {
        List<ConveyorEvent> out = runner.run(input, "ce-1", attempt -> {
            if (attempt < 3) {
                throw StageException.transientFailure(Reason.FLAKY, "try again", null);
            }
            return List.of(input);
        });
        assertThat(out).containsExactly(input);
        assertThat(sleeps).hasSize(2);
    }

    @Test
    void unclassifiedExceptionsNeverEscape() {
        List<ConveyorEvent> out = runner.run(input, "ce-1", attempt -> {
            throw new IllegalStateException("boom");
        });
        StageFailed failed = (StageFailed) out.get(0);
        assertThat(failed.reason()).isEqualTo("UNEXPECTED_ERROR");
        assertThat(failed.message()).isEqualTo("IllegalStateException: boom");
        assertThat(failed.retryable()).isTrue();
    }
}
