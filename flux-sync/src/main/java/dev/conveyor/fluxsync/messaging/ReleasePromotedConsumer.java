package dev.conveyor.fluxsync.messaging;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.fluxsync.service.FluxSyncService;
import dev.conveyor.stage.messaging.StageEdge;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.reactive.messaging.annotations.Blocking;

/**
 * The Kafka edge: a {@code ReleasePromoted} syncs its GitOps repository at once; out come the {@code RepoSynced} and
 * {@code ReleaseHealthy}/{@code ReleaseDegraded} of the runs delivered, or a {@code StageFailed}. The input is
 * acknowledged only after the outputs are acknowledged by the broker ({@link StageEdge}); unreadable records are
 * dead-lettered with their reason.
 */
@ApplicationScoped
public class ReleasePromotedConsumer {

    private static final Logger LOG = Logger.getLogger(ReleasePromotedConsumer.class);

    @Inject
    FluxSyncService service;

    @Inject
    StageEdge edge;

    @Incoming(Topics.RELEASE_PROMOTED)
    @Blocking(ordered = true)
    public CompletionStage<Void> consume(Message<ReleasePromoted> message) {
        // Health events of rollouts still running follow once these outputs are sent; the wait is not on this thread.
        return edge.handle(message, (promoted, in) -> service.onReleasePromoted(promoted, in.causationId(),
                in.published()));
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
        service.onLaterEvents(later -> edge.publish(later).exceptionally(e -> {
            LOG.errorf("[flux-sync] health events not published: %s", e.getMessage());
            return null;
        }));
    }

    /**
     * Resumes the rollout waits the previous process left running (their health events go out from here), off the
     * start path: one read per repository, on a thread of its own right after start. A sync that starts a wait for
     * the same release first is joined by the resumed one, and the other way round (one wait, one event).
     */
    void onStart(@Observes StartupEvent start) {
        Thread t = new Thread(() -> {
            try {
                service.resumeWaits();
            } catch (RuntimeException e) {
                LOG.errorf("[flux-sync] cannot resume the rollout waits of the previous process: %s", e.getMessage());
            }
        }, "flux-sync-resume-waits");
        t.setDaemon(true);
        t.start();
    }

}
