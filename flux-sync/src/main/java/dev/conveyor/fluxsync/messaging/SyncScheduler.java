package dev.conveyor.fluxsync.messaging;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.fluxsync.config.FluxSyncConfig;
import dev.conveyor.fluxsync.service.FluxSyncService;
import dev.conveyor.fluxsync.service.RepoSpec;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.messaging.StageEdge;
import io.quarkus.runtime.StartupEvent;

/**
 * Syncs every repository on its own interval (which also corrects drift), and at once when a webhook asks. The events
 * of runs such a sync delivers are published; a failed interval sync is logged and retried on the next interval, it is
 * no run's failure.
 */
@ApplicationScoped
public class SyncScheduler {

    private static final Logger LOG = Logger.getLogger(SyncScheduler.class);

    @Inject
    FluxSyncService service;

    @Inject
    StageEdge edge;

    @Inject
    FluxSyncConfig config;

    private final ScheduledExecutorService executor = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "flux-sync-scheduler");
        t.setDaemon(true);
        return t;
    });
    private final ConcurrentHashMap<String, ScheduledFuture<?>> tasks = new ConcurrentHashMap<>();

    void onStart(@Observes StartupEvent start) {
        if (!config.scheduler().enabled()) {
            LOG.info("[flux-sync] interval syncs are off (conveyor.flux-sync.scheduler.enabled=false)");
            return;
        }
        for (RepoSpec repo : service.repos()) {
            tasks.put(repo.name(), executor.scheduleWithFixedDelay(() -> syncNow(repo.name()), config.scheduler()
                    .initialDelay().toMillis(), repo.interval().toMillis(), TimeUnit.MILLISECONDS));
        }
    }

    /** Queues a sync of the repository now (webhook, resume). */
    public void trigger(String repo) {
        executor.execute(() -> syncNow(repo));
    }

    /** Runs one sync and publishes its events; never throws. */
    void syncNow(String name) {
        RepoSpec repo = service.repo(name).orElse(null);
        if (repo == null || repo.suspended()) {
            return;
        }
        try {
            java.util.concurrent.CompletableFuture<Void> published = new java.util.concurrent.CompletableFuture<>();
            List<ConveyorEvent> out = service.syncRepo(repo, published);
            edge.publish(out).whenComplete((v, e) -> ReleasePromotedConsumer.complete(published, e))
                    .exceptionally(e -> {
                        LOG.errorf("[flux-sync] repo %s: events not published: %s", name, e.getMessage());
                        return null;
                    });
        } catch (StageException e) {
            LOG.warnf("[flux-sync] repo %s: sync failed (%s): %s", name, e.reason(), e.getMessage());
        } catch (RuntimeException e) {
            LOG.errorf(e, "[flux-sync] repo %s: sync failed", name);
        }
    }

    @PreDestroy
    void stop() {
        executor.shutdownNow();
    }
}
