package dev.conveyor.events.proof;

import java.util.concurrent.CompletionStage;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;

import dev.conveyor.events.messaging.EventMessages;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Stage;

/**
 * The proof app's producer: one emitter for every event type, the topic chosen per message by {@link EventMessages#of}.
 * Stages use one channel per topic instead; this shows the metadata alone routes correctly.
 */
@ApplicationScoped
public class ProofPublisher {

    @Inject
    @Channel("proof-out")
    Emitter<ConveyorEvent> emitter;

    public CompletionStage<Void> publish(ConveyorEvent event, Stage source) {
        var acked = new java.util.concurrent.CompletableFuture<Void>();
        emitter.send(EventMessages.of(event, source, acked));
        return acked;
    }
}
