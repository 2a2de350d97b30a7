package dev.conveyor.versioner.messaging;

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
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.StageFailed;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.stage.StageRunner;
import dev.conveyor.versioner.service.VersionService;
import io.smallrye.reactive.messaging.annotations.Blocking;

/**
 * The Kafka edge: one {@code BuildSucceeded} in, one {@code VersionResolved} or {@code StageFailed} out. The input is
 * acknowledged only after the output is acknowledged by the broker, so a crash in between redelivers the input, and the
 * rerun finds the tag it made and reuses it. Unreadable records are dead-lettered with their reason.
 */
@ApplicationScoped
public class BuildSucceededConsumer {

    @Inject
    VersionService versions;

    @Inject
    StageRunner runner;

    @Inject
    @Channel(Topics.VERSION_RESOLVED)
    Emitter<VersionResolved> resolved;

    @Inject
    @Channel(Topics.STAGE_FAILED)
    Emitter<StageFailed> failed;

    @Incoming(Topics.BUILD_SUCCEEDED)
    @Blocking(ordered = true)
    public CompletionStage<Void> consume(Message<BuildSucceeded> message) {
        BuildSucceeded build = message.getPayload();
        if (build == null) {
            return message.nack(new IllegalArgumentException(EventMessages.deserializationFailure(message)));
        }
        String causationId = EventMessages.cloudEventId(message).orElse(null);
        List<ConveyorEvent> out = runner.run(build, causationId, attempt -> List.of(versions.resolve(build,
                causationId)));
        return EventMessages.ackWhenSent(message, out.stream().map(this::send).toList());
    }

    private CompletableFuture<Void> send(ConveyorEvent event) {
        CompletableFuture<Void> acked = new CompletableFuture<>();
        if (event instanceof VersionResolved version) {
            resolved.send(EventMessages.of(version, Stage.VERSIONER, acked));
        } else {
            failed.send(EventMessages.of((StageFailed) event, Stage.VERSIONER, acked));
        }
        return acked;
    }

}
