package dev.conveyor.gateway.messaging;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Message;

import dev.conveyor.events.messaging.EventMessages;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.gateway.domain.ReplayAudit;
import dev.conveyor.stage.StageMetrics;
import io.smallrye.reactive.messaging.ce.OutgoingCloudEventMetadata;

/**
 * Publishes what the gateway emits (hook events and replays) and waits for the broker's acknowledgement, so an answer
 * of 202 means the event is in the log. One channel serves every topic: {@link EventMessages} sets each record's topic.
 */
@ApplicationScoped
public class GatewayPublisher {

    /** The gateway's single outgoing channel; each message names its own topic. */
    public static final String CHANNEL = "conveyor-gateway-out";

    @Inject
    @Channel(CHANNEL)
    Emitter<ConveyorEvent> emitter;

    @Inject
    StageMetrics metrics;

    /**
     * Sends the events and waits until the broker has acknowledged all of them.
     *
     * @throws PublishException when the broker refused one or did not answer in time
     */
    public void publish(List<? extends ConveyorEvent> events, Duration timeout) {
        publish(events, timeout, null);
    }

    /**
     * Like {@link #publish(List, Duration)}, each event carrying the replay's audit (who, when, from which stage) as
     * CloudEvents extension attributes, so the event log records who re-ran the run.
     */
    public void publish(List<? extends ConveyorEvent> events, Duration timeout, ReplayAudit audit) {
        CompletableFuture<?>[] acks = new CompletableFuture<?>[events.size()];
        for (int i = 0; i < events.size(); i++) {
            CompletableFuture<Void> acked = new CompletableFuture<>();
            Message<? extends ConveyorEvent> message = EventMessages.of(events.get(i), Stage.GATEWAY, acked);
            emitter.send((Message<ConveyorEvent>) (audit == null ? message : audited(message, audit)));
            acks[i] = acked;
        }
        try {
            CompletableFuture.allOf(acks).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PublishException("interrupted while publishing", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new PublishException("the broker did not acknowledge the event in " + timeout, e);
        }
        events.forEach(e -> metrics.emitted(e.eventType()));
    }

    @SuppressWarnings("unchecked")
    private static <E extends ConveyorEvent> Message<E> audited(Message<E> message, ReplayAudit audit) {
        OutgoingCloudEventMetadata<Object> ce = message.getMetadata(OutgoingCloudEventMetadata.class).orElseThrow();
        return message.addMetadata(OutgoingCloudEventMetadata.from(ce)
                .withExtension(ReplayAudit.BY, audit.by())
                .withExtension(ReplayAudit.AT, audit.at().toString())
                .withExtension(ReplayAudit.FROM, audit.from())
                .build());
    }

    /** The broker did not take an event. */
    public static class PublishException extends RuntimeException {
        public PublishException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
