package dev.conveyor.fluxsync.service;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.jboss.logging.Logger;

import dev.conveyor.events.v1.SyncSummary;
import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.client.HelmReleaseStorage;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.client.SopsDecryptor;
import dev.conveyor.fluxsync.domain.DesiredState;
import dev.conveyor.fluxsync.domain.Manifest;
import dev.conveyor.fluxsync.domain.ObjectRef;
import dev.conveyor.fluxsync.domain.ReleaseSpec;
import dev.conveyor.fluxsync.domain.SyncProblem;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.git.GitFailure;
import dev.conveyor.stage.git.GitUrls;
import dev.conveyor.stage.git.RepoMirrors;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Keeps the cluster equal to one revision of a GitOps repository. One sync runs these phases, each in its own class
 * and returning its result: read the revision ({@link RevisionReader}), plan ({@link Planner}), apply the plain
 * objects ({@link Applier}), the releases ({@link ReleaseSync}: render, apply all or nothing, wait for health,
 * remediate), record the inventory and prune ({@link InventoryRecorder}), write the release conditions
 * ({@link ConditionWriter}), report problems (events, log) and metrics ({@link SyncMetrics}). One sync of a repository
 * runs at a time; different repositories sync independently.
 */
public final class RepoReconciler {

    private static final Logger LOG = Logger.getLogger(RepoReconciler.class);
    /**
     * Most commits whose trailers are read in one sync (the first sync of a long history, or a reported revision the
     * branch no longer contains and the mirror does not have).
     */
    static final int MAX_COMMITS = 500;

    /**
     * Settings shared by every repository.
     *
     * @param renderConcurrency releases rendered at once, over all repositories (1: one after the other, each at its
     *     turn, as before renders ran in parallel)
     * @param applyConcurrency objects of one apply tier, and releases, applied at once over all repositories (1: one
     *     after the other)
     */
    public record Settings(String chartsDir, String inventoryNamespace, Duration healthTimeout, Duration healthPoll,
            Path workDir, int renderConcurrency, int applyConcurrency) {

        public Settings {
            if (renderConcurrency < 1) {
                throw new IllegalArgumentException("conveyor.flux-sync.sync.render-concurrency must be at least 1, was "
                        + renderConcurrency);
            }
            if (applyConcurrency < 1) {
                throw new IllegalArgumentException("conveyor.flux-sync.sync.apply-concurrency must be at least 1, was "
                        + applyConcurrency);
            }
        }

        /** The defaults: {@link #defaultRenderConcurrency()} and {@link #defaultApplyConcurrency()}. */
        public Settings(String chartsDir, String inventoryNamespace, Duration healthTimeout, Duration healthPoll,
                Path workDir) {
            this(chartsDir, inventoryNamespace, healthTimeout, healthPoll, workDir, defaultRenderConcurrency(),
                    defaultApplyConcurrency());
        }

        /** The same settings with other concurrencies. */
        public Settings withConcurrency(int render, int apply) {
            return new Settings(chartsDir, inventoryNamespace, healthTimeout, healthPoll, workDir, render, apply);
        }

        /** Renders at once by default: one per available processor (Helm renders are CPU work). */
        public static int defaultRenderConcurrency() {
            return Math.max(1, Runtime.getRuntime().availableProcessors());
        }

        /**
         * Applies at once by default: four per available processor, at least 4 and at most 32 (an apply mostly waits
         * for the API server).
         */
        public static int defaultApplyConcurrency() {
            return Math.min(32, Math.max(4, 4 * Runtime.getRuntime().availableProcessors()));
        }

        /** Whether the sync does everything on its own thread, one object and one release after the other. */
        boolean serial() {
            return renderConcurrency == 1 && applyConcurrency == 1;
        }
    }

    /**
     * A rollout wait running off the sync, with what it takes to resume it in another process.
     *
     * @param releaseId the release object's {@code namespace/name}
     * @param release the release object
     * @param releaseName the Helm release name
     * @param workloads the workloads waited for
     * @param revision the revision whose rollout is waited for
     * @param deadline when the wait gives up ({@code RolloutTimeout})
     * @param changed whether the sync changed objects of the release
     */
    public record PendingWait(String releaseId, ObjectRef release, String releaseName, List<ObjectRef> workloads,
            String revision, Instant deadline, boolean changed) {
    }

    private final KubeCluster cluster;
    private final Settings settings;
    private final Map<String, RepoState> states = new ConcurrentHashMap<>();
    private final Function<RepoSpec, RepoMirrors> mirrorsByRepo;
    private final ReportedRevisions reported;
    private final RevisionReader revisions;
    private final Planner planner;
    private final Applier applier;
    private final ReleaseSync releases;
    private final DeferredHealth deferred;
    private final InventoryRecorder inventory;
    private final ConditionWriter conditions;
    private final SyncMetrics metrics;
    /** Where renders and applies run at once (bounded, shared by all repositories), or serial. */
    private final ReleaseSync.Pools pools;
    /** Numbers the syncs of all repositories: orders their reports, also across a repository leaving and coming back. */
    private final java.util.concurrent.atomic.AtomicLong sequence = new java.util.concurrent.atomic.AtomicLong();
    /** The fence: asked before every apply phase (one instance owns every repository unless told otherwise). */
    private volatile RepoOwnership ownership = RepoOwnership.SINGLE;

    public RepoReconciler(RepoMirrors mirrors, KubeCluster cluster, ChartRenderer renderer, Settings settings,
            MeterRegistry metrics, Clock clock) {
        this(mirrors, r -> mirrors, cluster, renderer, settings, metrics, clock, new SopsDecryptor(List::of));
    }

    /**
     * @param mirrorsByRepo the mirrors of a repository (its own git credentials), {@code mirrors} when it has none
     * @param sops decrypts SOPS-encrypted files with the configured age identities
     */
    public RepoReconciler(RepoMirrors mirrors, Function<RepoSpec, RepoMirrors> mirrorsByRepo, KubeCluster cluster,
            ChartRenderer renderer, Settings settings, MeterRegistry metrics, Clock clock, SopsDecryptor sops) {
        this.mirrorsByRepo = mirrorsByRepo;
        this.cluster = cluster;
        this.settings = settings;
        this.reported = new ReportedRevisions(cluster, settings.inventoryNamespace());
        HelmReleaseStorage helm = new HelmReleaseStorage(cluster.client());
        this.revisions = new RevisionReader(reported);
        this.planner = new Planner(settings.chartsDir(), sops);
        this.applier = new Applier(cluster);
        HealthCheck health = new HealthCheck(cluster, settings.healthTimeout(), settings.healthPoll());
        Remediation remediation = new Remediation(helm, applier);
        this.conditions = new ConditionWriter(cluster, clock);
        this.deferred = new DeferredHealth(health, remediation, conditions, clock);
        this.releases = new ReleaseSync(new ReleaseRenderer(cluster, renderer, settings.workDir()), applier, health,
                remediation, deferred, helm);
        this.inventory = new InventoryRecorder(cluster, helm, settings.inventoryNamespace());
        this.metrics = new SyncMetrics(metrics);
        this.pools = settings.serial()
                ? ReleaseSync.Pools.SERIAL
                : new ReleaseSync.Pools(pool("flux-sync-render-", settings.renderConcurrency()), pool(
                        "flux-sync-apply-", settings.applyConcurrency()));
    }

    /**
     * A bounded pool of daemon threads (they only ever run work a sync waits for, so nothing is lost when the process
     * stops); idle threads end after a minute.
     */
    private static java.util.concurrent.ExecutorService pool(String prefix, int size) {
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.ThreadPoolExecutor executor = new java.util.concurrent.ThreadPoolExecutor(size, size, 60,
                java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, prefix + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        executor.allowCoreThreadTimeOut(true);
        return executor;
    }

    public KubeCluster cluster() {
        return cluster;
    }

    /**
     * Sets the fence: from now on every sync checks that this replica owns the repository right before each phase
     * that writes to the cluster (apply, each release, inventory and prune, conditions) and stops with
     * {@link RepoOwnership.Lost} when it does not.
     */
    public void fence(RepoOwnership ownership) {
        this.ownership = ownership;
    }

    public RepoOwnership ownership() {
        return ownership;
    }

    /**
     * Forgets what this process knew of the repository (revision, inventory, renders, conditions written, reported
     * revision): another replica may have changed all of it. The next sync reads it again from the cluster. A sync
     * running now keeps its own copy and stops at its next fence.
     */
    public void forget(String repo) {
        states.remove(repo);
        reported.forget(repo);
    }

    /**
     * Runs {@code action} while no sync of the repository runs in this process (holding the repository's lock) and
     * returns true; returns false at once when one runs.
     */
    public boolean whileIdle(String repo, Runnable action) {
        RepoState state = states.get(repo);
        if (state == null) {
            action.run();
            return true;
        }
        if (!state.lock.tryLock()) {
            return false;
        }
        try {
            action.run();
            return true;
        } finally {
            state.lock.unlock();
        }
    }

    private RepoState state(String repo) {
        return states.computeIfAbsent(repo, k -> {
            RepoState s = new RepoState();
            s.fence = () -> ownership.check(repo);
            return s;
        });
    }

    public Settings settings() {
        return settings;
    }

    /** The wait running off the sync for the release ({@code namespace/name} of its object), if any. */
    public Optional<PendingWait> pendingWait(String repo, String releaseId) {
        RepoState state = states.get(repo);
        if (state == null) {
            return Optional.empty();
        }
        return state.pendingWaits.values().stream().filter(w -> w.releaseId().equals(releaseId)).findFirst();
    }

    /**
     * Resumes a wait another process started (it stopped before the wait ended): polls the workloads until they roll
     * out or the wait's deadline passes, then writes the release's conditions. A failed upgrade is not rolled back
     * (the failed render is not known here). When a wait for the release already runs, that one is returned.
     */
    public CompletableFuture<ReleaseResult> resume(RepoSpec repo, PendingWait wait, Executor executor) {
        return deferred.resume(state(repo.name()), wait, executor);
    }

    /**
     * Syncs {@code repo}: fetch, apply, prune, wait. {@code waitFor} names releases ({@code namespace/release}) whose
     * health is waited for even if nothing of theirs changed (the releases a promoted run names).
     */
    public SyncResult sync(RepoSpec repo, Set<String> waitFor) {
        return sync(repo, waitFor, null);
    }

    /**
     * Syncs {@code repo} like {@link #sync(RepoSpec, Set)}, but with {@code healthExecutor} set the rollout waits of
     * releases no other release depends on run there, after the sync returns: those releases are
     * {@link ReleaseResult.State#PROGRESSING} in the result, and {@link SyncResult#health()} completes with their
     * outcome (after a rollback on failure, with their conditions written). Waits a dependency needs stay in the
     * sync.
     */
    public SyncResult sync(RepoSpec repo, Set<String> waitFor, Executor healthExecutor) {
        ownership.check(repo.name());
        RepoState state = state(repo.name());
        RepoMirrors mirrors = mirrorsByRepo.apply(repo);
        state.lock.lock();
        long start = System.nanoTime();
        SyncTimings timings = new SyncTimings();
        var active = metrics.started(repo);
        try {
            ReentrantLock mirrorLock = mirrors.lock(repo.url());
            mirrorLock.lock();
            try (Repository git = mirrors.fetch(repo.url())) {
                if (state.inventory == null) {
                    inventory.load(repo, state);
                }
                timings.since(SyncTimings.FETCH, start);
                // the first write (the reported revision's record) happens while reading the revision
                state.fence.run();
                long phase = System.nanoTime();
                RevisionReader.Revision revision = revisions.read(repo, git, state.revision);
                timings.since(SyncTimings.REVISION, phase);
                state.syncs = sequence.incrementAndGet();
                SyncResult result = reconcile(repo, state, revision, waitFor, start, healthExecutor, timings);
                state.revision = revision.id();
                return result;
            } catch (IOException e) {
                throw GitFailure.classify(e, repo.url());
            } finally {
                mirrorLock.unlock();
            }
        } catch (KubernetesClientException e) {
            throw StageException.transientFailure(FluxSyncFailure.CLUSTER_UNAVAILABLE, "Kubernetes API: "
                    + e.getMessage(), e);
        } finally {
            if (active != null) {
                active.stop();
            }
            state.lock.unlock();
        }
    }

    /**
     * Records that the runs {@code result} delivered were reported (the broker acknowledged their events): the next
     * sync reports the runs of the commits after its revision. An older sync's report never replaces a newer one's.
     */
    public void reported(SyncResult result) {
        if (!ownership.owns(result.repo())) {
            // the owner reports these runs again from its own syncs
            return;
        }
        reported.record(result.repo(), result.url(), result.sequence(), result.revision());
    }

    /** Whether the commit is the synced revision of the repository or one of its ancestors. */
    public boolean contains(RepoSpec repo, String commit) {
        RepoState state = states.get(repo.name());
        if (state == null || state.revision == null) {
            return false;
        }
        RepoMirrors mirrors = mirrorsByRepo.apply(repo);
        ReentrantLock mirrorLock = mirrors.lock(repo.url());
        mirrorLock.lock();
        try (Repository git = new FileRepositoryBuilder().setGitDir(mirrors.mirrorDir(repo.url()).toFile())
                .setMustExist(true).build(); RevWalk walk = new RevWalk(git)) {
            var id = ObjectId.fromString(commit);
            if (!git.getObjectDatabase().has(id)) {
                return false;
            }
            return walk.isMergedInto(walk.parseCommit(id), walk.parseCommit(ObjectId.fromString(state.revision)));
        } catch (IOException | IllegalArgumentException e) {
            return false;
        } finally {
            mirrorLock.unlock();
        }
    }

    /** The revision last synced, if any. */
    public String revision(String repo) {
        RepoState s = states.get(repo);
        return s == null ? null : s.revision;
    }

    private SyncResult reconcile(RepoSpec repo, RepoState state, RevisionReader.Revision revision,
            Set<String> waitFor, long start, Executor healthExecutor, SyncTimings timings) throws IOException {
        String rev = revision.id();
        // plan
        long phase = System.nanoTime();
        String planKey = rev + "\n" + repo.url() + "\n" + repo.branch() + "\n" + repo.path();
        boolean kept = planKey.equals(state.planKey);
        Planner.Plan plan = kept ? state.plan : planner.plan(repo, revision.snapshot());
        if (!kept) {
            // a new plan: what earlier syncs prepared is dropped (prepared again once by this sync)
            state.prepared.clear();
        }
        // A plan is kept for the next sync of the same revision only when no file of it is SOPS-encrypted: a
        // decryption depends on the identities, which may change between syncs.
        boolean keep = plan.sensitive().isEmpty() && plan.undecrypted().isEmpty() && plan.problems().stream()
                .noneMatch(p -> p.reason() == dev.conveyor.fluxsync.domain.ProblemReason.DECRYPTION_FAILED);
        state.plan = keep ? plan : null;
        state.planKey = keep ? planKey : null;
        state.sensitiveOwners = plan.sensitive();
        timings.since(SyncTimings.PLAN, phase);
        // apply: namespaces, CRDs, manifests and the release objects themselves, in kind order (a tier at once)
        state.fence.run();
        phase = System.nanoTime();
        Applier.LiveObjects live = new Applier.LiveObjects(timings, state.prepared);
        Applier.Applied objects = applier.apply(repo, live, plan.desired().objects(), plan.sensitive(), pools.apply());
        timings.since(SyncTimings.APPLY, phase);
        // releases, each after the releases it depends on are healthy
        phase = System.nanoTime();
        ReleaseSync.Outcome out = releases.sync(repo, state, revision.snapshot(), plan, waitFor, healthExecutor, live,
                pools);
        timings.since(SyncTimings.RELEASES, phase);
        Applier.Applied applied = objects.plus(out.applied());
        List<SyncProblem> problems = new ArrayList<>(plan.problems());
        problems.addAll(objects.problems());
        problems.addAll(out.problems());
        problems.addAll(out.applied().problems());
        // record the inventory, prune what left git (owners that could not be synced keep their objects)
        state.fence.run();
        phase = System.nanoTime();
        Set<String> held = new LinkedHashSet<>(plan.held());
        held.addAll(out.held());
        Set<String> releaseOwners = new HashSet<>();
        plan.desired().objects().forEach(m -> releaseOwners.add(Manifest.releaseOwner(m.ref().namespace(), m.ref()
                .name())));
        List<DesiredState.Skipped> skipped = plan.desired().skipped();
        InventoryRecorder.Recorded recorded = inventory.record(repo, state, applied.kept(), held, releaseOwners, rev,
                revision.newRevision(), skipped);
        state.skipped = List.copyOf(skipped);
        timings.since(SyncTimings.INVENTORY, phase);
        // write conditions on the release objects
        state.fence.run();
        phase = System.nanoTime();
        // each release's writes in the serial order; the releases at once on the apply pool (bounded), unless serial
        Map<String, List<Runnable>> writes = new LinkedHashMap<>();
        for (ReleaseSpec release : plan.desired().releases()) {
            writes.computeIfAbsent(release.id(), k -> new ArrayList<>()).add(() -> conditions.write(state, release
                    .id(), release.object().ref(), out.results().get(release.id()), rev));
        }
        out.brokenReleases().forEach((id, ref) -> writes.computeIfAbsent(id, k -> new ArrayList<>()).add(
                () -> conditions.write(state, id, ref, out.results().get(id), rev)));
        plan.undecrypted().forEach((id, u) -> writes.computeIfAbsent(id, k -> new ArrayList<>()).add(
                () -> conditions.write(state, id, u.ref(), out.results().get(id), rev)));
        runAll(writes.values(), pools.apply());
        timings.since(SyncTimings.CONDITIONS, phase);
        phase = System.nanoTime();
        // report: problems as log lines and Kubernetes events; what is not applied (DesiredState.skipped()) in the
        // result, the inventory ConfigMap's "skipped" key, GET /repos, and the log: once per revision at info, at
        // debug on every other sync
        logSkipped(repo, state, rev, skipped);
        for (SyncProblem p : problems) {
            LOG.warnf("[flux-sync] repo %s at %s: %s: %s", repo.name(), RevisionReader.shortRev(rev), p.reason()
                    .condition(), p.message());
        }
        ProblemEvents.record(cluster, settings.inventoryNamespace(), repo.name(), rev, problems);
        // metrics
        timings.since(SyncTimings.REPORT, phase);
        Duration duration = Duration.ofNanos(System.nanoTime() - start);
        Map<String, Duration> phases = timings.phases();
        LOG.debugf("[flux-sync] repo %s: where the time went: %s", repo.name(), SyncTimings.describe(phases));
        SyncSummary summary = new SyncSummary(applied.created(), applied.updated(), applied.unchanged(), recorded
                .pruned());
        metrics.record(repo, summary, applied.drifted(), duration);
        if (applied.drifted() > 0) {
            LOG.infof("[flux-sync] repo %s: corrected drift on %d objects", repo.name(), applied.drifted());
        }
        LOG.infof(
                "[flux-sync] repo %s synced %s: %d created, %d updated, %d unchanged, %d pruned, %d problems, %d not "
                        + "applied (skipped) in %d ms",
                repo.name(), RevisionReader.shortRev(rev), applied.created(), applied.updated(), applied.unchanged(),
                recorded.pruned(), problems.size(), skipped.size(), duration.toMillis());
        return new SyncResult(repo.name(), GitUrls.redact(repo.url()), rev, revision.newRevision(), revision.runIds(),
                summary, applied.drifted(), List.copyOf(problems), List.copyOf(out.results().values()), duration, Map
                        .copyOf(out.pending()),
                state.syncs, List.copyOf(skipped), timings);
    }

    /**
     * Runs each list of tasks in its order, the lists at once on {@code executor} (on this thread one after the other
     * when it is null); returns when all are done, throwing the first failure.
     */
    private static void runAll(java.util.Collection<List<Runnable>> tasks, Executor executor) {
        if (executor == null || tasks.size() < 2) {
            tasks.forEach(list -> list.forEach(Runnable::run));
            return;
        }
        CompletableFuture<?>[] running = tasks.stream().map(list -> CompletableFuture.runAsync(() -> list.forEach(
                Runnable::run), executor)).toArray(CompletableFuture[]::new);
        try {
            CompletableFuture.allOf(running).join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /**
     * Logs what the revision holds but is not applied: one info line per revision (each path with its reason), the
     * same at debug on the syncs after it, so a poll does not repeat it.
     */
    private static void logSkipped(RepoSpec repo, RepoState state, String rev, List<DesiredState.Skipped> skipped) {
        if (skipped.isEmpty()) {
            return;
        }
        boolean first = !rev.equals(state.skippedLogged);
        if (!first && !LOG.isDebugEnabled()) {
            return;
        }
        List<String> lines = skipped.stream().map(DesiredState.Skipped::toString).toList();
        String text = lines.size() > 50
                ? String.join("; ", lines.subList(0, 50)) + "; ... (" + lines.size() + " in all)"
                : String.join("; ", lines);
        LOG.logf(first ? Logger.Level.INFO : Logger.Level.DEBUG, "[flux-sync] repo %s at %s: %d not applied: %s", repo
                .name(), RevisionReader.shortRev(rev), skipped.size(), text);
        state.skippedLogged = rev;
    }

    /**
     * What the last synced revision of the repository holds but flux-sync does not apply, with the reason (empty
     * before its first sync in this process).
     */
    public List<DesiredState.Skipped> skipped(String repo) {
        RepoState s = states.get(repo);
        return s == null ? List.of() : s.skipped;
    }
}
