package dev.conveyor.stage;

import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.jboss.logging.Logger;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.StageFailed;

/**
 * Runs a stage's work on one input event with the rules every stage follows: transient and not-ready failures are
 * retried with bounded backoff, terminal ones are not, and whatever survives becomes a {@link StageFailed} event
 * instead of an exception, so one bad record never stops the consumer. Records the stage metrics.
 */
public final class StageRunner {

    /** The stage's work: given the attempt number (1-based), the events to emit. */
    @FunctionalInterface
    public interface Work {
        List<ConveyorEvent> run(int attempt);
    }

    /** Reason code for failures the stage did not classify: a bug or an unexpected library error. */
    public enum Unclassified {
        UNEXPECTED_ERROR
    }

    private static final Logger LOG = Logger.getLogger(StageRunner.class);

    private final Stage stage;
    private final Backoff backoff;
    private final StageMetrics metrics;
    private final Clock clock;
    private final Sleeper sleeper;

    /** Waits between attempts; tests pass one that does not sleep. */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(Duration duration) throws InterruptedException;
    }

    public StageRunner(Stage stage, Backoff backoff, StageMetrics metrics, Clock clock, Sleeper sleeper) {
        this.stage = stage;
        this.backoff = backoff;
        this.metrics = metrics;
        this.clock = clock;
        this.sleeper = sleeper;
    }

    public StageRunner(Stage stage, Backoff backoff, StageMetrics metrics) {
        this(stage, backoff, metrics, Clock.systemUTC(), d -> Thread.sleep(d.toMillis()));
    }

    /** The stage whose work this runs: the source of the events it emits. */
    public Stage stage() {
        return stage;
    }

    /**
     * Handles {@code input}: the events {@code work} returns, or a single {@link StageFailed} answering the input.
     *
     * @param causationId the CloudEvents id of the input, carried by the {@code StageFailed}
     */
    public List<ConveyorEvent> run(ConveyorEvent input, String causationId, Work work) {
        long start = System.nanoTime();
        metrics.consumed(input.eventType());
        StageException last = null;
        for (int attempt = 1; attempt <= backoff.maxAttempts(); attempt++) {
            try {
                List<ConveyorEvent> out = work.run(attempt);
                out.forEach(e -> metrics.emitted(e.eventType()));
                metrics.handled(Duration.ofNanos(System.nanoTime() - start), "success");
                return out;
            } catch (StageException e) {
                last = e;
            } catch (RuntimeException e) {
                // Not classified by the stage: retry it like a transient failure, but say plainly what it was.
                last = new StageException(FailureKind.TRANSIENT, Unclassified.UNEXPECTED_ERROR,
                        e.getClass().getSimpleName() + ": " + e.getMessage(), Map.of(), e);
                LOG.errorf(e, "[%s] %s run %s: unexpected error", stage.id(), input.run().app(), input.run().runId());
            }
            if (last.kind() == FailureKind.TERMINAL || attempt == backoff.maxAttempts()) {
                break;
            }
            Duration delay = backoff.delayAfter(attempt);
            LOG.warnf("[%s] %s run %s: attempt %d of %d failed (%s: %s), retrying in %d ms", stage.id(),
                    input.run().app(), input.run().runId(), attempt, backoff.maxAttempts(), last.reason(),
                    last.getMessage(), delay.toMillis());
            try {
                sleeper.sleep(delay);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        boolean retryable = last.kind() != FailureKind.TERMINAL;
        LOG.errorf("[%s] %s run %s failed: %s: %s", stage.id(), input.run().app(), input.run().runId(),
                last.reason(), last.getMessage());
        metrics.failed(last.reason());
        metrics.handled(Duration.ofNanos(System.nanoTime() - start), retryable ? "retryable_failure" : "failure");
        Map<String, String> details = new LinkedHashMap<>(last.details());
        details.putIfAbsent("kind", last.kind().name());
        StageFailed failed = new StageFailed(input.run(), clock.instant(), causationId, stage, last.reason(),
                retryable, last.getMessage() == null ? last.reason() : last.getMessage(), details);
        metrics.emitted(failed.eventType());
        return List.of(failed);
    }
}
