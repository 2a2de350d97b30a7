package dev.conveyor.versioner.messaging;

import java.util.List;
import java.util.concurrent.CompletionStage;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.stage.messaging.StageEdge;
import dev.conveyor.versioner.service.VersionService;
import io.smallrye.reactive.messaging.annotations.Blocking;

/**
 * The Kafka edge: one {@code BuildSucceeded} in, one {@code VersionResolved} or {@code StageFailed} out, through
 * {@link StageEdge} (input acknowledged after the output; unreadable records dead-lettered with their reason). A crash
 * in between redelivers the input, and the rerun finds the tag it made and reuses it.
 */
@ApplicationScoped
public class BuildSucceededConsumer {

    @Inject
    VersionService versions;

    @Inject
    StageEdge edge;

    @Incoming(Topics.BUILD_SUCCEEDED)
    @Blocking(ordered = true)
    public CompletionStage<Void> consume(Message<BuildSucceeded> message) {
        return edge.handle(message, (build, in) -> List.of(versions.resolve(build, in.causationId())));
    }
}
