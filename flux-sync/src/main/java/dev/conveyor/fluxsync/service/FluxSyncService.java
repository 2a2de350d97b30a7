package dev.conveyor.fluxsync.service;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

import org.jboss.logging.Logger;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.ReleaseDegraded;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.git.GitUrls;

/**
 * The stage: many repositories, each synced on its interval, at once when a run promotes into it, and on a git
 * webhook. Turns syncs into events for the runs they delivered: a {@code RepoSynced} for every run whose
 * {@code Conveyor-Run} trailer is in the commits since the revision last reported and whose {@code ReleasePromoted}
 * this instance has seen, then {@code ReleaseHealthy}/{@code ReleaseDegraded} for the release that run promoted. The
 * sync's revision is recorded as reported once the caller's {@code published} stage completes normally (the broker
 * acknowledged the events); until then every sync reports those runs again, with the same event ids. A run whose
 * commit was synced before its {@code ReleasePromoted} arrived (an interval sync got there first, or a previous
 * process reported that revision) gets its events when it arrives.
 */
public final class FluxSyncService {

    private static final Logger LOG = Logger.getLogger(FluxSyncService.class);
    /** Runs remembered, per map: enough for days of promotions, small enough to never matter. */
    static final int REMEMBERED = 10_000;

    /** A promotion seen, with the CloudEvents id it came with (the causation of what it leads to). */
    record Promotion(ReleasePromoted event, String causationId) {
    }

    private final RepoReconciler reconciler;
    private final Clock clock;
    private final Map<String, RepoSpec> repos = new ConcurrentHashMap<>();
    private final Map<String, Promotion> promotions = bounded();
    /** Runs delivered by a sync before their ReleasePromoted was seen: run id → that sync. */
    private final Map<String, SyncResult> deliveredUnseen = bounded();

    private final Executor healthExecutor;
    /** Rollout waits of runs still running, persisted for a restart (only with a health executor). */
    private final HealthWaits waits;
    private volatile Consumer<List<ConveyorEvent>> later = e -> {
    };
    /** Ids of the health events rollout waits of this process handed to the publisher. */
    private final Map<String, Boolean> waitSent = bounded();
    /** The rollout waits whose health event this process will send: run, repository and release. */
    private final Set<String> following = ConcurrentHashMap.newKeySet();
    /** Where work for repositories another replica owns goes; null for a single instance (it owns them all). */
    private volatile dev.conveyor.fluxsync.client.Handoffs handoffs;

    /** Rollout waits run inside the sync: every event is returned by the call that syncs. */
    public FluxSyncService(RepoReconciler reconciler, Collection<RepoSpec> repos, Clock clock) {
        this(reconciler, repos, clock, null);
    }

    /**
     * @param healthExecutor where rollout waits run (bounded); their {@code ReleaseHealthy}/{@code ReleaseDegraded}
     *     go to the sink set with {@link #onLaterEvents}, after the sync's own events were published
     */
    public FluxSyncService(RepoReconciler reconciler, Collection<RepoSpec> repos, Clock clock,
            Executor healthExecutor) {
        this.reconciler = reconciler;
        this.clock = clock;
        this.healthExecutor = healthExecutor;
        this.waits = healthExecutor == null
                ? null
                : new HealthWaits(reconciler.cluster(), reconciler.settings()
                        .inventoryNamespace());
        repos.forEach(r -> this.repos.put(r.name(), r));
    }

    /**
     * Shards the repositories across replicas: this replica syncs only the repositories {@code ownership} says it
     * owns (its syncs are fenced by it) and hands promotions and webhook syncs of the others to their owner through
     * {@code handoffs}.
     */
    public void shard(RepoOwnership ownership, dev.conveyor.fluxsync.client.Handoffs handoffs) {
        reconciler.fence(ownership);
        if (waits != null) {
            waits.fence(ownership);
        }
        this.handoffs = handoffs;
    }

    /** Whether this replica owns (syncs) the repository now. */
    public boolean owns(String repo) {
        return reconciler.ownership().owns(repo);
    }

    /**
     * A webhook asked to sync the repository: true when this replica owns it (the caller syncs it), otherwise the
     * request is handed to the owner and false is returned.
     */
    public boolean requestSync(String repo) {
        if (owns(repo) || handoffs == null) {
            return true;
        }
        handoffs.sync(repo);
        return false;
    }

    /** Forgets what this process knew of a repository another replica may have changed (a takeover, a loss). */
    public void forget(String repo) {
        reconciler.forget(repo);
        if (waits != null) {
            waits.forget(repo);
        }
    }

    /** Where the events of rollout waits that end after their sync go (the Kafka emitters). */
    public void onLaterEvents(Consumer<List<ConveyorEvent>> sink) {
        this.later = sink;
    }

    private static <V> Map<String, V> bounded() {
        return java.util.Collections.synchronizedMap(new LinkedHashMap<>(256, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
                return size() > REMEMBERED;
            }
        });
    }

    public Collection<RepoSpec> repos() {
        return List.copyOf(repos.values());
    }

    public Optional<RepoSpec> repo(String name) {
        return Optional.ofNullable(repos.get(name));
    }

    /** Suspends or resumes a repository; a suspended one is neither fetched nor applied until resumed. */
    public Optional<RepoSpec> suspend(String name, boolean suspended) {
        return Optional.ofNullable(repos.computeIfPresent(name, (k, r) -> r.withSuspended(suspended)));
    }

    /** The repository an event names: by name, or by URL (compared without credentials or a trailing .git). */
    public Optional<RepoSpec> repoFor(String gitopsRepo) {
        RepoSpec byName = repos.get(gitopsRepo);
        if (byName != null) {
            return Optional.of(byName);
        }
        String wanted = normalise(gitopsRepo);
        return repos.values().stream().filter(r -> normalise(r.url()).equals(wanted)).findFirst();
    }

    private static String normalise(String url) {
        String u = GitUrls.redact(url).trim();
        u = u.endsWith("/") ? u.substring(0, u.length() - 1) : u;
        return u.endsWith(".git") ? u.substring(0, u.length() - 4) : u;
    }

    /** Handles a promotion: remembers the run and syncs its repository at once; the events to emit. */
    public List<ConveyorEvent> onReleasePromoted(ReleasePromoted promoted, String causationId) {
        return onReleasePromoted(promoted, causationId, CompletableFuture.completedFuture(null));
    }

    /**
     * Handles a promotion. {@code published} completes when the returned events were sent: normally once the broker
     * acknowledged all of them (then the sync's revision is recorded as reported), exceptionally when one failed (then
     * the next sync reports the same runs again). The release's health event, when its rollout is still being waited
     * for, is sent to the {@linkplain #onLaterEvents sink} once it is known and {@code published} has completed either
     * way.
     */
    public List<ConveyorEvent> onReleasePromoted(ReleasePromoted promoted, String causationId,
            CompletionStage<?> published) {
        return promoted(promoted, causationId, published, true);
    }

    /**
     * Handles a promotion another replica handed over, like {@link #onReleasePromoted(ReleasePromoted, String,
     * CompletionStage)}; when this replica does not own the repository (any more) it throws {@link RepoOwnership.Lost}
     * and the handoff stays for the owner.
     */
    public List<ConveyorEvent> onHandedOver(ReleasePromoted promoted, String causationId,
            CompletionStage<?> published) {
        return promoted(promoted, causationId, published, false);
    }

    private List<ConveyorEvent> promoted(ReleasePromoted promoted, String causationId, CompletionStage<?> published,
            boolean handOff) {
        Optional<RepoSpec> repo = repoFor(promoted.gitopsRepo());
        if (repo.isEmpty()) {
            LOG.infof("[flux-sync] %s run %s: %s is not a repository of this instance; ignored", promoted.run().app(),
                    promoted.run().runId(), GitUrls.redact(promoted.gitopsRepo()));
            return List.of();
        }
        String runId = promoted.run().runId();
        if (handoffs != null && !owns(repo.get().name())) {
            if (!handOff) {
                throw new RepoOwnership.Lost(repo.get().name());
            }
            handOff(repo.get(), promoted, causationId);
            return List.of();
        }
        promotions.put(runId, new Promotion(promoted, causationId));
        SyncResult earlier = deliveredUnseen.remove(runId);
        if (earlier != null) {
            return eventsFor(runId, earlier, earlier.runIds(), published);
        }
        if (repo.get().suspended()) {
            LOG.infof("[flux-sync] %s run %s: repository %s is suspended; the run is synced when it resumes",
                    promoted.run().app(), runId, repo.get().name());
            return List.of();
        }
        SyncResult result;
        try {
            result = reconciler.sync(repo.get(), Set.of(promoted.namespace() + "/" + promoted.release()),
                    healthExecutor);
        } catch (RepoOwnership.Lost lost) {
            if (!handOff || handoffs == null) {
                throw lost;
            }
            // Another replica took the repository while this one synced: it syncs it from git; the run goes to it.
            handOff(repo.get(), promoted, causationId);
            return List.of();
        }
        if (!result.runIds().contains(runId) && !reconciler.contains(repo.get(), promoted.gitopsCommit())) {
            throw StageException.notReady(FluxSyncFailure.COMMIT_NOT_ON_BRANCH, "commit " + promoted.gitopsCommit()
                    + " is not on branch " + repo.get().branch() + " of " + GitUrls.redact(repo.get().url())
                    + " yet");
        }
        List<ConveyorEvent> out = events(result, published);
        if (!result.runIds().contains(runId)) {
            // Delivered and reported earlier, before this instance knew the run (a sync of this process that did not
            // know it, or a previous process): report it now, naming it.
            out = new ArrayList<>(out);
            out.addAll(eventsFor(runId, result, List.of(runId), published));
        }
        recordWhenPublished(result, published);
        return out;
    }

    private void handOff(RepoSpec repo, ReleasePromoted promoted, String causationId) {
        handoffs.promotion(repo.name(), promoted, causationId);
        LOG.infof("[flux-sync] %s run %s: repository %s is owned by another replica; promotion handed over",
                promoted.run().app(), promoted.run().runId(), repo.name());
    }

    /** Syncs one repository (interval, webhook, resume); the events for runs it delivered. */
    public List<ConveyorEvent> syncRepo(RepoSpec repo) {
        return syncRepo(repo, CompletableFuture.completedFuture(null));
    }

    /**
     * Syncs one repository; {@code published} completes as for {@link #onReleasePromoted(ReleasePromoted, String,
     * CompletionStage)}: normally once the returned events are acknowledged, which records the revision as reported.
     */
    public List<ConveyorEvent> syncRepo(RepoSpec repo, CompletionStage<?> published) {
        if (repo.suspended() || !owns(repo.name())) {
            return List.of();
        }
        SyncResult result = reconciler.sync(repo, Set.of(), healthExecutor);
        List<ConveyorEvent> out = events(result, published);
        recordWhenPublished(result, published);
        return out;
    }

    /**
     * Records the sync's revision as reported once its events were acknowledged (at once when they already were); not
     * when sending failed. Off the thread that completes {@code published} (the Kafka client's): it writes a ConfigMap.
     */
    private void recordWhenPublished(SyncResult result, CompletionStage<?> published) {
        CompletableFuture<?> done = published.toCompletableFuture();
        if (done.isDone() && !done.isCompletedExceptionally()) {
            record(result);
        } else {
            done.thenRunAsync(() -> record(result));
        }
    }

    private void record(SyncResult result) {
        try {
            reconciler.reported(result);
        } catch (RuntimeException e) {
            LOG.warnf("[flux-sync] repo %s: cannot record %s as reported: %s", result.repo(), result.revision(), e
                    .getMessage());
        }
    }

    /** Events for the known runs of a sync; unknown runs are remembered for when their promotion arrives. */
    List<ConveyorEvent> events(SyncResult result, CompletionStage<?> published) {
        List<ConveyorEvent> out = new ArrayList<>();
        for (String runId : result.runIds()) {
            if (promotions.containsKey(runId)) {
                out.addAll(eventsFor(runId, result, result.runIds(), published));
            } else {
                deliveredUnseen.put(runId, result);
            }
        }
        return out;
    }

    /** The run's {@code RepoSynced} (listing {@code runIds}) and, unless its rollout is still waited for, health. */
    private List<ConveyorEvent> eventsFor(String runId, SyncResult result, List<String> runIds,
            CompletionStage<?> published) {
        Promotion p = promotions.get(runId);
        if (p == null) {
            return List.of();
        }
        ReleasePromoted promoted = p.event();
        List<ConveyorEvent> out = new ArrayList<>();
        out.add(new RepoSynced(promoted.run(), clock.instant(), p.causationId(), promoted.gitopsRepo(), result
                .revision(), runIds, result.summary()));
        Optional<ReleaseResult> release = result.releases().stream().filter(r -> r.matches(promoted.namespace(),
                promoted.release())).findFirst();
        if (release.isPresent() && release.get().state() == ReleaseResult.State.PROGRESSING) {
            CompletableFuture<ReleaseResult> health = result.health().get(release.get().namespace() + "/" + release
                    .get().name());
            if (health != null) {
                // The rollout is still being waited for: its event follows the ones returned now. The wait is
                // recorded so that a restarted process resumes it and still sends the event.
                HealthWaits.Entry entry = persist(result, release.get(), p);
                afterWait(result.repo(), runId, health, published, r -> healthEvent(p, result.revision(), r), entry);
                return out;
            }
        }
        if (release.isEmpty()) {
            out.add(new ReleaseDegraded(promoted.run(), clock.instant(), p.causationId(), promoted.gitopsRepo(), result
                    .revision(), promoted.namespace(), promoted.release(),
                    dev.conveyor.fluxsync.domain.ProblemReason.RELEASE_NOT_FOUND.condition(),
                    "no release "
                            + promoted.namespace() + "/" + promoted.release() + " in " + result.url() + " at "
                            + result.revision()));
        } else {
            ConveyorEvent health = healthEvent(p, result.revision(), release.get());
            if (!waitSent.containsKey(dev.conveyor.events.v1.CloudEventAttributes.idOf(health))) {
                out.add(health);
            }
            // else: this process's rollout wait for the run (resumed at a takeover) already sent it
        }
        return out;
    }

    /** Records the wait of a run, if waits are persisted; the record, or null. */
    private HealthWaits.Entry persist(SyncResult result, ReleaseResult release, Promotion p) {
        if (waits == null) {
            return null;
        }
        return reconciler.pendingWait(result.repo(), release.namespace() + "/" + release.name()).map(w -> {
            HealthWaits.Entry entry = new HealthWaits.Entry(result.repo(), p.event(), p.causationId(), w);
            waits.started(entry);
            return entry;
        }).orElse(null);
    }

    /**
     * Sends the run's health event once the wait ended and {@code published} completed, then forgets the recorded
     * wait. A wait stopped with the process (cancelled) sends nothing and stays recorded for the next process.
     */
    private void afterWait(String repo, String runId, CompletableFuture<ReleaseResult> health,
            CompletionStage<?> published, java.util.function.Function<ReleaseResult, ConveyorEvent> event,
            HealthWaits.Entry entry) {
        String key = runId + " " + repo + " " + (entry == null ? "" : entry.pending().releaseId());
        if (!following.add(key)) {
            // this process already sends the event of that wait (a takeover's sync saw the run again)
            return;
        }
        // After the sync's own events were sent, whether or not the broker took them.
        CompletionStage<Object> sent = published.handle((v, e) -> null);
        health.thenCombine(sent, (r, ignored) -> r).whenComplete((r, e) -> following.remove(key)).thenAccept(r -> {
            if (!owns(repo)) {
                // The repository moved to another replica, which resumed this wait from its record: the event is its.
                LOG.infof("[flux-sync] run %s: repository %s moved to another replica, which finishes the rollout "
                        + "wait", runId, repo);
                return;
            }
            ConveyorEvent outcome = event.apply(r);
            waitSent.put(dev.conveyor.events.v1.CloudEventAttributes.idOf(outcome), Boolean.TRUE);
            later.accept(List.of(outcome));
            if (entry != null) {
                waits.ended(entry);
            }
        }).exceptionally(e -> {
            if (e instanceof java.util.concurrent.CancellationException
                    || e.getCause() instanceof java.util.concurrent.CancellationException) {
                LOG.infof("[flux-sync] run %s: rollout wait stopped; it is resumed at the next start", runId);
            } else {
                LOG.errorf("[flux-sync] run %s: health event not published: %s", runId, e.getMessage());
            }
            return null;
        });
    }

    /**
     * Resumes the rollout waits a previous process recorded and did not finish: a wait whose deadline passed while no
     * process ran ends at once in {@code ReleaseDegraded} {@code RolloutTimeout}; the others are waited for until
     * their deadline, and their runs get their {@code ReleaseHealthy}/{@code ReleaseDegraded} from this process. A
     * repository whose records cannot be read is logged and skipped. Call once at start, after
     * {@link #onLaterEvents}.
     */
    public void resumeWaits() {
        for (RepoSpec repo : repos.values()) {
            if (owns(repo.name())) {
                resumeWaits(repo);
            }
        }
    }

    /**
     * Resumes the rollout waits recorded for one repository, as {@link #resumeWaits()} does at start: when this replica
     * takes the repository over from another (which stopped or lost it), the runs it was waiting for get their health
     * event from here.
     */
    public void resumeWaits(RepoSpec repo) {
        if (waits == null) {
            return;
        }
        List<HealthWaits.Entry> entries;
        try {
            entries = waits.load(repo.name());
        } catch (RuntimeException e) {
            LOG.warnf("[flux-sync] repo %s: cannot read the rollout waits to resume: %s", repo.name(), e
                    .getMessage());
            return;
        }
        for (HealthWaits.Entry entry : entries) {
            ReleasePromoted promoted = entry.promoted();
            String runId = promoted.run().runId();
            Promotion p = new Promotion(promoted, entry.causationId());
            promotions.putIfAbsent(runId, p);
            RepoReconciler.PendingWait w = entry.pending();
            if (!clock.instant().isBefore(w.deadline())) {
                LOG.infof("[flux-sync] run %s: the rollout wait of %s ended while flux-sync was stopped", runId, w
                        .releaseId());
                later.accept(List.of(new ReleaseDegraded(promoted.run(), clock.instant(), entry.causationId(),
                        promoted.gitopsRepo(), w.revision(), promoted.namespace(), promoted.release(),
                        dev.conveyor.fluxsync.domain.ProblemReason.ROLLOUT_TIMEOUT.condition(),
                        "not ready by " + w.deadline()
                                + " (the deadline passed while flux-sync was stopped)")));
                waits.ended(entry);
                continue;
            }
            LOG.infof("[flux-sync] run %s: resuming the rollout wait of %s (until %s)", runId, w.releaseId(), w
                    .deadline());
            afterWait(repo.name(), runId, reconciler.resume(repo, w, healthExecutor), CompletableFuture
                    .completedFuture(null), r -> healthEvent(p, w.revision(), r), entry);
        }
    }

    private ConveyorEvent healthEvent(Promotion p, String revision, ReleaseResult r) {
        ReleasePromoted promoted = p.event();
        if (r.state() == ReleaseResult.State.HEALTHY) {
            return new ReleaseHealthy(promoted.run(), clock.instant(), p.causationId(), promoted.gitopsRepo(),
                    revision, promoted.namespace(), promoted.release(), r.workloads());
        }
        return new ReleaseDegraded(promoted.run(), clock.instant(), p.causationId(), promoted.gitopsRepo(), revision,
                promoted.namespace(), promoted.release(), r.reason().condition(), r.message());
    }

    public RepoReconciler reconciler() {
        return reconciler;
    }
}
