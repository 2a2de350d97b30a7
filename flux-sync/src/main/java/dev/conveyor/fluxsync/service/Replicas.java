package dev.conveyor.fluxsync.service;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import org.jboss.logging.Logger;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.fluxsync.client.Handoffs;
import dev.conveyor.fluxsync.client.RepoLeases;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.StageRunner;

/**
 * What a replica does as repositories come to it and leave it ({@link RepoLeases.Listener}): on a takeover it forgets
 * what it knew of the repository, resumes the rollout waits the previous owner recorded, syncs the repository from git
 * (so a trigger the previous owner received and did not finish is not lost) and handles what other replicas handed
 * over; on a loss it forgets the repository. Every {@code handoffPoll} it handles the promotions and webhook syncs
 * other replicas handed over for the repositories it owns ({@link Handoffs}); an item is deleted once the events it
 * led to were acknowledged, so it survives the owner dying in between. No Quarkus here: a test runs several.
 */
public final class Replicas implements RepoLeases.Listener, AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Replicas.class);

    private final FluxSyncService service;
    private final Handoffs handoffs;
    private final StageRunner runner;
    private final Function<List<ConveyorEvent>, CompletableFuture<Void>> publisher;
    private final Duration handoffPoll;
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService executor;

    /**
     * @param publisher publishes events; completes when the broker acknowledged all of them
     * @param handoffPoll how often the handed-over work of owned repositories is looked for
     */
    public Replicas(FluxSyncService service, Handoffs handoffs, StageRunner runner,
            Function<List<ConveyorEvent>, CompletableFuture<Void>> publisher, Duration handoffPoll) {
        this.service = service;
        this.handoffs = handoffs;
        this.runner = runner;
        this.publisher = publisher;
        this.handoffPoll = handoffPoll;
        AtomicInteger n = new AtomicInteger();
        this.executor = Executors.newScheduledThreadPool(2, r -> {
            Thread t = new Thread(r, "flux-sync-replicas-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts looking for handed-over work. */
    public Replicas start() {
        executor.scheduleWithFixedDelay(this::handOffs, handoffPoll.toMillis(), handoffPoll.toMillis(),
                TimeUnit.MILLISECONDS);
        return this;
    }

    @Override
    public void acquired(String repo) {
        executor.execute(() -> takeOver(repo));
    }

    @Override
    public void lost(String repo) {
        service.forget(repo);
    }

    @Override
    public boolean whileIdle(String repo, Runnable handBack) {
        return service.reconciler().whileIdle(repo, handBack);
    }

    /** A takeover: fresh state, the previous owner's waits, a sync from git, what was handed over. */
    void takeOver(String name) {
        Optional<RepoSpec> repo = service.repo(name);
        if (repo.isEmpty() || !service.owns(name)) {
            return;
        }
        service.forget(name);
        service.resumeWaits(repo.get());
        sync(repo.get());
        handOffs(name);
    }

    private void sync(RepoSpec repo) {
        try {
            CompletableFuture<Void> published = new CompletableFuture<>();
            List<ConveyorEvent> out = service.syncRepo(repo, published);
            publisher.apply(out).whenComplete((v, e) -> complete(published, e));
        } catch (RepoOwnership.Lost e) {
            LOG.infof("[flux-sync] repo %s: %s", repo.name(), e.getMessage());
        } catch (StageException e) {
            LOG.warnf("[flux-sync] repo %s: sync failed (%s): %s", repo.name(), e.reason(), e.getMessage());
        } catch (RuntimeException e) {
            LOG.errorf(e, "[flux-sync] repo %s: sync failed", repo.name());
        }
    }

    /** Handles what was handed over for every repository this replica owns. Never throws. */
    void handOffs() {
        try {
            for (Map.Entry<String, List<Handoffs.Entry>> e : handoffs.pending().entrySet()) {
                if (service.owns(e.getKey())) {
                    e.getValue().forEach(this::handle);
                }
            }
        } catch (RuntimeException e) {
            LOG.warnf("[flux-sync] cannot read the handed-over work: %s", e.getMessage());
        }
    }

    private void handOffs(String repo) {
        try {
            handoffs.pending().getOrDefault(repo, List.of()).forEach(this::handle);
        } catch (RuntimeException e) {
            LOG.warnf("[flux-sync] repo %s: cannot read the handed-over work: %s", repo, e.getMessage());
        }
    }

    private void handle(Handoffs.Entry entry) {
        if (!service.owns(entry.repo()) || !inFlight.add(entry.name())) {
            return;
        }
        try {
            if (entry.promoted().isEmpty()) {
                handoffs.done(entry);
                service.repo(entry.repo()).ifPresent(this::sync);
                inFlight.remove(entry.name());
                return;
            }
            ReleasePromoted promoted = entry.promoted().get();
            LOG.infof("[flux-sync] %s run %s: syncing repository %s for the promotion another replica handed over",
                    promoted.run().app(), promoted.run().runId(), entry.repo());
            AtomicBoolean lost = new AtomicBoolean();
            CompletableFuture<Void> published = new CompletableFuture<>();
            List<ConveyorEvent> out = runner.run(promoted, entry.causationId(), attempt -> {
                try {
                    return service.onHandedOver(promoted, entry.causationId(), published);
                } catch (RepoOwnership.Lost e) {
                    lost.set(true);
                    return List.of();
                }
            });
            if (lost.get()) {
                // stays for the replica that owns the repository now
                inFlight.remove(entry.name());
                return;
            }
            publisher.apply(out).whenCompleteAsync((v, e) -> {
                complete(published, e);
                try {
                    if (e == null) {
                        handoffs.done(entry);
                    }
                } catch (RuntimeException ex) {
                    LOG.warnf("[flux-sync] cannot delete the handled handoff %s: %s", entry.name(), ex.getMessage());
                } finally {
                    inFlight.remove(entry.name());
                }
            }, executor);
        } catch (RuntimeException e) {
            inFlight.remove(entry.name());
            LOG.warnf("[flux-sync] repo %s: handoff %s not handled: %s", entry.repo(), entry.name(), e.getMessage());
        }
    }

    private static void complete(CompletableFuture<Void> published, Throwable failure) {
        if (failure == null) {
            published.complete(null);
        } else {
            published.completeExceptionally(failure);
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
