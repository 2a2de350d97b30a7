package dev.conveyor.fluxsync.messaging;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;

import dev.conveyor.events.messaging.EventMessages;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.ReleaseDegraded;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.StageFailed;
import dev.conveyor.events.v1.Topics;

/** The outgoing edge: one emitter per topic; each send completes when the broker acknowledged it. */
@ApplicationScoped
public class SyncEvents {

    @Inject
    @Channel(Topics.REPO_SYNCED)
    Emitter<RepoSynced> synced;

    @Inject
    @Channel(Topics.RELEASE_HEALTHY)
    Emitter<ReleaseHealthy> healthy;

    @Inject
    @Channel(Topics.RELEASE_DEGRADED)
    Emitter<ReleaseDegraded> degraded;

    @Inject
    @Channel(Topics.STAGE_FAILED)
    Emitter<StageFailed> failed;

    /** Sends the events in order of the list; the future completes when all are acknowledged. */
    public CompletableFuture<Void> send(List<ConveyorEvent> events) {
        CompletableFuture<?>[] sends = events.stream().map(this::send).toArray(CompletableFuture[]::new);
        return CompletableFuture.allOf(sends);
    }

    private CompletableFuture<Void> send(ConveyorEvent event) {
        CompletableFuture<Void> acked = new CompletableFuture<>();
        if (event instanceof RepoSynced e) {
            synced.send(EventMessages.of(e, Stage.FLUX_SYNC, acked));
        } else if (event instanceof ReleaseHealthy e) {
            healthy.send(EventMessages.of(e, Stage.FLUX_SYNC, acked));
        } else if (event instanceof ReleaseDegraded e) {
            degraded.send(EventMessages.of(e, Stage.FLUX_SYNC, acked));
        } else {
            failed.send(EventMessages.of((StageFailed) event, Stage.FLUX_SYNC, acked));
        }
        return acked;
    }
}
