package dev.conveyor.fluxsync.messaging;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

import dev.conveyor.events.messaging.EventMessages;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.fluxsync.service.FluxSyncService;
import dev.conveyor.stage.StageRunner;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.reactive.messaging.annotations.Blocking;

/**
 * The Kafka edge: a {@code ReleasePromoted} syncs its GitOps repository at once; out come the {@code RepoSynced} and
 * {@code ReleaseHealthy}/{@code ReleaseDegraded} of the runs delivered, or a {@code StageFailed}. The input is
 * acknowledged only after the outputs are acknowledged by the broker. Unreadable records are dead-lettered.
 */
@ApplicationScoped
public class ReleasePromotedConsumer {

    private static final Logger LOG = Logger.getLogger(ReleasePromotedConsumer.class);

    @Inject
    FluxSyncService service;

    @Inject
    StageRunner runner;

    @Inject
    SyncEvents events;

    @Incoming(Topics.RELEASE_PROMOTED)
    @Blocking(ordered = true)
    public CompletionStage<Void> consume(Message<ReleasePromoted> message) {
        ReleasePromoted promoted = message.getPayload();
        if (promoted == null) {
            return message.nack(new IllegalArgumentException(EventMessages.deserializationFailure(message)));
        }
        String causationId = EventMessages.cloudEventId(message).orElse(null);
        // Health events of rollouts still running follow once these outputs are sent; the wait is not on this thread.
        CompletableFuture<Void> published = new CompletableFuture<>();
        List<ConveyorEvent> out = runner.run(promoted, causationId, attempt -> service.onReleasePromoted(promoted,
                causationId, published));
        return events.send(out).whenComplete((v, e) -> complete(published, e)).thenCompose(v -> message.ack())
                .exceptionallyCompose(e -> message.nack(e));
    }

    /** Tells the service whether the broker took the events: only then is the sync's revision recorded as reported. */
    static void complete(CompletableFuture<Void> published, Throwable failure) {
        if (failure == null) {
            published.complete(null);
        } else {
            published.completeExceptionally(failure);
        }
    }

    @PostConstruct
    void laterEvents() {
        service.onLaterEvents(later -> events.send(later).exceptionally(e -> {
            LOG.errorf("[flux-sync] health events not published: %s", e.getMessage());
            return null;
        }));
    }

    /** Resumes the rollout waits the previous process left running; their health events go out from here. */
    void onStart(@Observes StartupEvent start) {
        try {
            service.resumeWaits();
        } catch (RuntimeException e) {
            LOG.errorf("[flux-sync] cannot resume the rollout waits of the previous process: %s", e.getMessage());
        }
    }

}
