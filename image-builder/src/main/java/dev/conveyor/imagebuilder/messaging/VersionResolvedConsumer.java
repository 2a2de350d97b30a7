package dev.conveyor.imagebuilder.messaging;

import java.util.List;
import java.util.concurrent.CompletionStage;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

import dev.conveyor.events.v1.Topics;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.imagebuilder.service.ImageBuildService;
import dev.conveyor.stage.messaging.StageEdge;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.reactive.messaging.annotations.Blocking;

/**
 * The Kafka edge: one {@code VersionResolved} in, one {@code ImagePushed} or {@code StageFailed} out, through
 * {@link StageEdge} (input acknowledged after the output; unreadable records dead-lettered with their reason). A crash
 * in between redelivers the input, and the rerun finds the image it pushed and does not push it again.
 */
@ApplicationScoped
public class VersionResolvedConsumer {

    /** Counter of images by outcome: {@code pushed}, or {@code skipped} when the registry already had them. */
    public static final String PUSHES_METRIC = "conveyor_image_pushes_total";

    @Inject
    ImageBuildService images;

    @Inject
    MeterRegistry meters;

    @Inject
    StageEdge edge;

    @Incoming(Topics.VERSION_RESOLVED)
    @Blocking(ordered = true)
    public CompletionStage<Void> consume(Message<VersionResolved> message) {
        return edge.handle(message, (version, in) -> {
            ImageBuildService.Result result = images.build(version, in.causationId());
            meters.counter(PUSHES_METRIC, "outcome", result.pushed() ? "pushed" : "skipped").increment();
            return List.of(result.event());
        });
    }
}
