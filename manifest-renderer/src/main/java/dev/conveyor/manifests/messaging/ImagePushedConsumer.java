package dev.conveyor.manifests.messaging;

import java.util.List;
import java.util.concurrent.CompletionStage;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.manifests.service.RenderService;
import dev.conveyor.stage.messaging.StageEdge;
import io.smallrye.reactive.messaging.annotations.Blocking;

/**
 * The Kafka edge: one {@code ImagePushed} in, one {@code ManifestsValidated} or {@code StageFailed} out, through
 * {@link StageEdge} (input acknowledged after the output; unreadable records dead-lettered with their reason). A crash
 * in between redelivers the input, and the rerun finds the manifests it committed unchanged and makes no second commit.
 */
@ApplicationScoped
public class ImagePushedConsumer {

    @Inject
    RenderService renderer;

    @Inject
    StageEdge edge;

    @Incoming(Topics.IMAGE_PUSHED)
    @Blocking(ordered = true)
    public CompletionStage<Void> consume(Message<ImagePushed> message) {
        return edge.handle(message, (image, in) -> List.of(renderer.render(image, in.causationId())));
    }
}
