package dev.conveyor.imagebuilder.messaging;

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
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.StageFailed;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.imagebuilder.service.ImageBuildService;
import dev.conveyor.stage.StageRunner;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.reactive.messaging.annotations.Blocking;

/**
 * The Kafka edge: one {@code VersionResolved} in, one {@code ImagePushed} or {@code StageFailed} out. The input is
 * acknowledged only after the output is acknowledged by the broker, so a crash in between redelivers the input, and the
 * rerun finds the image it pushed and does not push it again. Unreadable records are dead-lettered with their reason.
 */
@ApplicationScoped
public class VersionResolvedConsumer {

    /** Counter of images by outcome: {@code pushed}, or {@code skipped} when the registry already had them. */
    public static final String PUSHES_METRIC = "conveyor_image_pushes_total";

    @Inject
    ImageBuildService images;

    @Inject
    StageRunner runner;

    @Inject
    MeterRegistry meters;

    @Inject
    @Channel(Topics.IMAGE_PUSHED)
    Emitter<ImagePushed> pushed;

    @Inject
    @Channel(Topics.STAGE_FAILED)
    Emitter<StageFailed> failed;

    @Incoming(Topics.VERSION_RESOLVED)
    @Blocking(ordered = true)
    public CompletionStage<Void> consume(Message<VersionResolved> message) {
        VersionResolved version = message.getPayload();
        if (version == null) {
            return message.nack(new IllegalArgumentException(EventMessages.deserializationFailure(message)));
        }
        String causationId = EventMessages.cloudEventId(message).orElse(null);
        List<ConveyorEvent> out = runner.run(version, causationId, attempt -> {
            ImageBuildService.Result result = images.build(version, causationId);
            meters.counter(PUSHES_METRIC, "outcome", result.pushed() ? "pushed" : "skipped").increment();
            return List.of(result.event());
        });
        return EventMessages.ackWhenSent(message, out.stream().map(this::send).toList());
    }

    private CompletableFuture<Void> send(ConveyorEvent event) {
        CompletableFuture<Void> acked = new CompletableFuture<>();
        if (event instanceof ImagePushed image) {
            pushed.send(EventMessages.of(image, Stage.IMAGE_BUILDER, acked));
        } else {
            failed.send(EventMessages.of((StageFailed) event, Stage.IMAGE_BUILDER, acked));
        }
        return acked;
    }

}
