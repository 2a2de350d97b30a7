package dev.conveyor.manifests.messaging;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

import dev.conveyor.events.messaging.EventMessages;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.StageFailed;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.manifests.service.RenderService;
import dev.conveyor.stage.StageRunner;
import io.smallrye.reactive.messaging.annotations.Blocking;

/**
 * The Kafka edge: one {@code ImagePushed} in, one {@code ManifestsValidated} or {@code StageFailed} out. The input is
 * acknowledged only after the output is acknowledged by the broker, so a crash in between redelivers the input, and the
 * rerun finds the manifests it committed unchanged and makes no second commit. Unreadable records are dead-lettered
 * with their reason.
 */
@ApplicationScoped
public class ImagePushedConsumer {

    @Inject
    RenderService renderer;

    @Inject
    StageRunner runner;

    @Inject
    @Channel(Topics.MANIFESTS_VALIDATED)
    Emitter<ManifestsValidated> validated;

    @Inject
    @Channel(Topics.STAGE_FAILED)
    Emitter<StageFailed> failed;

    @Incoming(Topics.IMAGE_PUSHED)
    @Blocking(ordered = true)
    public CompletionStage<Void> consume(Message<ImagePushed> message) {
        ImagePushed image = message.getPayload();
        if (image == null) {
            return message.nack(new IllegalArgumentException(EventMessages.deserializationFailure(message)));
        }
        String causationId = EventMessages.cloudEventId(message).orElse(null);
        List<ConveyorEvent> out = runner.run(image, causationId, attempt -> List.of(renderer.render(image,
                causationId)));
        return EventMessages.ackWhenSent(message, out.stream().map(this::send).toList());
    }

    private CompletableFuture<Void> send(ConveyorEvent event) {
        CompletableFuture<Void> acked = new CompletableFuture<>();
        if (event instanceof ManifestsValidated manifests) {
            validated.send(EventMessages.of(manifests, Stage.MANIFEST_RENDERER, acked));
        } else {
            failed.send(EventMessages.of((StageFailed) event, Stage.MANIFEST_RENDERER, acked));
        }
        return acked;
    }

}
