package dev.conveyor.stage.messaging;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.common.errors.RetriableException;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

import dev.conveyor.events.messaging.EventMessages;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.StageRunner;

/**
 * The Kafka edge every stage shares: one input message in, the stage's work run by its {@link StageRunner}, every
 * output published through one emitter (each record names its own topic), and the input acknowledged only once the
 * broker has acknowledged every output. So a process that dies anywhere in between gets the input again, and the rerun
 * re-emits the same deterministic event ids.
 *
 * <ul>
 * <li>An unreadable record (null payload: the deserializer failed) is nacked with the deserializer's reason, so the
 * channel's failure strategy dead-letters it with a {@code dead-letter-reason} header.</li>
 * <li>An output the broker could not take for a retriable reason (the broker is away longer than the producer's
 * {@code delivery.timeout.ms}) is sent again with backoff, not dead-lettered: the input stays unacknowledged and
 * nothing is lost. Any other refusal (record too large, serialization) nacks the input.</li>
 * </ul>
 *
 * A plain class: each service makes one in its {@code *Beans} from its {@link StageRunner} and the emitter of
 * {@link #CHANNEL}.
 */
public final class StageEdge {

    /** The one outgoing channel of every stage, configured in each service's {@code application.properties}. */
    public static final String CHANNEL = "conveyor-events";

    /** The stage's work on one readable input. */
    @FunctionalInterface
    public interface Work<E extends ConveyorEvent> {
        /** The events to emit for {@code input}; failures are {@code StageException}s, as for {@link StageRunner}. */
        List<? extends ConveyorEvent> run(E input, Delivery delivery);
    }

    /**
     * What the work may need of the message besides its payload.
     *
     * @param causationId the input's CloudEvents id, for the {@code causationId} of the events it causes (may be null)
     * @param attempt the attempt number (1-based) of the stage runner's retries
     * @param published completes when every output of this input is acknowledged by the broker, exceptionally when one
     *            is refused for good; work that starts something to finish later (flux-sync's health waits) waits on it
     */
    public record Delivery(String causationId, int attempt, CompletionStage<Void> published) {
    }

    private static final Logger LOG = Logger.getLogger(StageEdge.class);

    private final StageRunner runner;
    private final Emitter<ConveyorEvent> emitter;
    private final Backoff resend;

    public StageEdge(StageRunner runner, Emitter<ConveyorEvent> emitter) {
        this(runner, emitter, new Backoff(Integer.MAX_VALUE, Duration.ofSeconds(1), Duration.ofSeconds(30)));
    }

    /** @param resend delays between sends of an output the broker could not take yet */
    public StageEdge(StageRunner runner, Emitter<ConveyorEvent> emitter, Backoff resend) {
        this.runner = runner;
        this.emitter = emitter;
        this.resend = resend;
    }

    /**
     * Handles one input message: dead-letters it when unreadable, otherwise runs {@code work} (with the runner's
     * retries; what survives becomes a {@code StageFailed}), publishes the outputs and acknowledges the input once they
     * are all acknowledged.
     *
     * @return completes when the input is acknowledged (or nacked)
     */
    public <E extends ConveyorEvent> CompletionStage<Void> handle(Message<E> message, Work<? super E> work) {
        E input = message.getPayload();
        if (input == null) {
            return message.nack(new IllegalArgumentException(EventMessages.deserializationFailure(message)));
        }
        String causationId = EventMessages.cloudEventId(message).orElse(null);
        CompletableFuture<Void> published = new CompletableFuture<>();
        List<ConveyorEvent> out = runner.run(input, causationId, attempt -> List.copyOf(work.run(input,
                new Delivery(causationId, attempt, published))));
        CompletableFuture<Void> sent = publish(out);
        sent.whenComplete((v, e) -> {
            if (e == null) {
                published.complete(null);
            } else {
                published.completeExceptionally(e);
            }
        });
        return sent.thenCompose(v -> message.ack()).exceptionallyCompose(message::nack);
    }

    /**
     * Publishes {@code events} (each to its own topic); completes when the broker has acknowledged all of them, or
     * exceptionally when one is refused for a reason that sending again cannot fix.
     */
    public CompletableFuture<Void> publish(List<? extends ConveyorEvent> events) {
        return CompletableFuture.allOf(events.stream().map(e -> send(e, 1)).toArray(CompletableFuture[]::new));
    }

    private CompletableFuture<Void> send(ConveyorEvent event, int attempt) {
        CompletableFuture<Void> acked = new CompletableFuture<>();
        try {
            emitter.send(EventMessages.of(event, runner.stage(), acked));
        } catch (RuntimeException e) {
            // The emitter's buffer is full or the channel is down: as retriable as a broker timeout.
            acked.completeExceptionally(new org.apache.kafka.common.errors.TimeoutException(e.getMessage(), e));
        }
        return acked.exceptionallyCompose(failure -> {
            if (!retriable(failure)) {
                return CompletableFuture.failedFuture(failure);
            }
            Duration delay = resend.delayAfter(Math.min(attempt, 20));
            LOG.warnf("[%s] %s run %s: the broker did not take %s (%s); sending it again in %d ms (attempt %d)",
                    runner.stage().id(), event.run().app(), event.run().runId(), event.eventType().eventName(),
                    failure.getMessage(), delay.toMillis(), attempt);
            return CompletableFuture.runAsync(() -> {
            }, CompletableFuture.delayedExecutor(delay.toMillis(), TimeUnit.MILLISECONDS))
                    .thenCompose(v -> send(event, attempt + 1));
        });
    }

    /** Whether the failure is one the broker may get over (timeouts, leader changes, disconnections). */
    static boolean retriable(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof RetriableException) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }
}
