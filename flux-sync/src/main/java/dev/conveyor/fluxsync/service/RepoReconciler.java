package dev.conveyor.fluxsync.service;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

import org.eclipse.jgit.lib.Repository;
import org.jboss.logging.Logger;

import dev.conveyor.events.v1.RunTrailer;
import dev.conveyor.events.v1.SyncSummary;
import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.client.GitopsSnapshot;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.client.SopsDecryptor;
import dev.conveyor.fluxsync.domain.ChartSource;
import dev.conveyor.fluxsync.domain.DesiredState;
import dev.conveyor.fluxsync.domain.Inventory;
import dev.conveyor.fluxsync.domain.KindOrder;
import dev.conveyor.fluxsync.domain.LiveComparison;
import dev.conveyor.fluxsync.domain.Manifest;
import dev.conveyor.fluxsync.domain.ObjectRef;
import dev.conveyor.fluxsync.domain.ProblemReason;
import dev.conveyor.fluxsync.domain.ReleaseSpec;
import dev.conveyor.fluxsync.domain.RepoLayout;
import dev.conveyor.fluxsync.domain.SyncProblem;
import dev.conveyor.fluxsync.domain.Values;
import dev.conveyor.fluxsync.domain.ValuesRef;
import dev.conveyor.fluxsync.domain.WorkloadHealth;
import dev.conveyor.fluxsync.domain.YamlDocuments;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.git.GitFailure;
import dev.conveyor.stage.git.GitUrls;
import dev.conveyor.stage.git.RepoMirrors;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Keeps the cluster equal to one revision of a GitOps repository: fetch, read the layout, render the releases, apply
 * in order, prune what left git, wait for the rollouts of what changed, write the release conditions, record the
 * inventory. One sync of a repository runs at a time; different repositories sync independently.
 */
public final class RepoReconciler {

    private static final Logger LOG = Logger.getLogger(RepoReconciler.class);
    /**
     * Most commits whose trailers are read in one sync (the first sync of a long history, or a reported revision the
     * branch no longer contains and the mirror does not have).
     */
    static final int MAX_COMMITS = 500;

    /** Settings shared by every repository. */
    public record Settings(String chartsDir, String inventoryNamespace, Duration healthTimeout, Duration healthPoll,
            Path workDir) {
    }

    private static final class RepoState {
        final ReentrantLock lock = new ReentrantLock();
        /** The revision applied last. */
        String revision;
        /** Syncs of the repository in this process: orders their reports. */
        long syncs;
        Inventory inventory;
        final Map<String, String> renders = new ConcurrentHashMap<>();
        final Map<String, Map<String, Object>> conditions = new HashMap<>();
        /** Render key last recorded in Helm's storage, per release owner. */
        final Map<String, String> helmRecorded = new HashMap<>();
        /** Release owners that have Helm records (null: not known yet after a start). */
        final Set<String> helmOwners = new HashSet<>();
        boolean helmChecked;
        /** Render keys that failed and were rolled back, per release owner: not applied again until git changes. */
        final Map<String, String> rolledBack = new HashMap<>();
        /** Rollout waits running off the sync, per release owner. */
        final Map<String, CompletableFuture<ReleaseResult>> pendingHealth = new ConcurrentHashMap<>();
        /** What each wait of {@link #pendingHealth} waits for, per release owner. */
        final Map<String, PendingWait> pendingWaits = new ConcurrentHashMap<>();
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
        RepoState state = states.computeIfAbsent(repo.name(), k -> new RepoState());
        String owner = Manifest.releaseOwner(wait.release().namespace(), wait.release().name());
        CompletableFuture<ReleaseResult> future = new CompletableFuture<>();
        CompletableFuture<ReleaseResult> running = state.pendingHealth.putIfAbsent(owner, future);
        if (running != null) {
            return running;
        }
        state.pendingWaits.put(owner, wait);
        Runnable task = () -> {
            ReleaseResult health;
            try {
                health = waitHealthy(wait.release(), wait.releaseName(), wait.workloads(), wait.changed(), System
                        .nanoTime() + Math.max(0, Duration.between(clock.instant(), wait.deadline()).toNanos()));
                if (!Thread.currentThread().isInterrupted()) {
                    state.lock.lock();
                    try {
                        writeConditions(state, wait.releaseId(), wait.release(), health, wait.revision());
                    } finally {
                        state.lock.unlock();
                    }
                }
            } catch (RuntimeException e) {
                health = result(wait.release(), wait.releaseName(), ReleaseResult.State.DEGRADED, refNames(wait
                        .workloads()), "HealthCheckFailed", "the rollout could not be checked: " + e.getMessage(),
                        wait.changed());
            }
            finish(state, owner, future, health);
        };
        try {
            executor.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            task.run();
        }
        return future;
    }

    /**
     * Ends a wait off the sync: a wait interrupted because the process stops ends in a {@link CancellationException}
     * (its persisted record stays, the next process resumes it), any other with its result.
     */
    private static void finish(RepoState state, String owner, CompletableFuture<ReleaseResult> future,
            ReleaseResult health) {
        if (state.pendingHealth.remove(owner, future)) {
            state.pendingWaits.remove(owner);
        }
        if (Thread.currentThread().isInterrupted()) {
            future.completeExceptionally(new CancellationException("the rollout wait was stopped"));
        } else {
            future.complete(health);
        }
    }

    /**
     * Records the release in Helm's storage ({@code helm list}) when its render changed; a failure to record is
     * logged, it does not fail the release.
     */
    private void recordHelmRelease(RepoSpec repo, RepoState state, GitopsSnapshot snapshot, ReleaseSpec release,
            Rendered output) {
        if (output.key().equals(state.helmRecorded.get(release.owner()))) {
            return;
        }
        String chartName = release.releaseName();
        String chartVersion = "0.0.0";
        String appVersion = null;
        try {
            if (release.chart() instanceof ChartSource.GitPath g) {
                Map<String, Object> chart = YamlDocuments.parseMap(g.path() + "/Chart.yaml", snapshot.readFile(g
                        .path() + "/Chart.yaml").orElse(""));
                chartName = String.valueOf(chart.getOrDefault("name", chartName));
                chartVersion = String.valueOf(chart.getOrDefault("version", chartVersion));
                appVersion = chart.get("appVersion") == null ? null : String.valueOf(chart.get("appVersion"));
            } else if (release.chart() instanceof ChartSource.HelmRepository h) {
                chartName = h.chart();
                chartVersion = h.version();
            } else if (release.chart() instanceof ChartSource.Oci o) {
                chartName = o.reference().substring(o.reference().lastIndexOf('/') + 1);
                chartVersion = o.version();
            }
            helmStorage.record(new dev.conveyor.fluxsync.client.HelmReleaseStorage.Record(release.releaseName(),
                    release.targetNamespace(), chartName, chartVersion, appVersion, output.values(), output.yaml(),
                    output.key(), release.owner(), repo.name()));
            state.helmRecorded.put(release.owner(), output.key());
            state.helmOwners.add(release.owner());
        } catch (IOException | RuntimeException e) {
            LOG.warnf("[flux-sync] repo %s: cannot record release %s for helm: %s", repo.name(), release.id(), e
                    .getMessage());
        }
    }

    private final RepoMirrors mirrors;
    private final KubeCluster cluster;
    private final ChartRenderer renderer;
    private final dev.conveyor.fluxsync.client.HelmReleaseStorage helmStorage;
    private final Settings settings;
    private final MeterRegistry metrics;
    private final Clock clock;
    private final Map<String, RepoState> states = new ConcurrentHashMap<>();
    private final SopsDecryptor sops;
    /**
     * Per repository, the owners whose objects hold values decrypted from SOPS files: API and Helm error messages about
     * them are withheld (they may quote values).
     */
    private final Map<String, Set<String>> sensitiveOwners = new ConcurrentHashMap<>();
    private final Function<RepoSpec, RepoMirrors> mirrorsByRepo;
    private final ReportedRevisions reported;

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
        this.sops = sops;
        this.mirrorsByRepo = mirrorsByRepo;
        this.mirrors = mirrors;
        this.cluster = cluster;
        this.renderer = renderer;
        this.helmStorage = new dev.conveyor.fluxsync.client.HelmReleaseStorage(cluster.client());
        this.settings = settings;
        this.metrics = metrics;
        this.clock = clock;
        this.reported = new ReportedRevisions(cluster, settings.inventoryNamespace());
    }

    public KubeCluster cluster() {
        return cluster;
    }

    public Settings settings() {
        return settings;
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
        RepoState state = states.computeIfAbsent(repo.name(), k -> new RepoState());
        RepoMirrors mirrors = mirrorsByRepo.apply(repo);
        state.lock.lock();
        long start = System.nanoTime();
        try {
            ReentrantLock mirrorLock = mirrors.lock(repo.url());
            mirrorLock.lock();
            try (Repository git = mirrors.fetch(repo.url())) {
                String revision = GitopsSnapshot.head(git, repo.branch()).orElseThrow(() -> StageException.terminal(
                        FluxSyncFailure.BRANCH_NOT_FOUND, "branch " + repo.branch() + " does not exist in "
                                + GitUrls.redact(repo.url()),
                        Map.of("field", "conveyor.flux-sync.repos." + repo.name() + ".branch")));
                if (state.inventory == null) {
                    loadInventory(repo, state);
                }
                GitopsSnapshot snapshot = GitopsSnapshot.read(git, revision, repo.path());
                boolean newRevision = !revision.equals(state.revision);
                List<String> runIds = deliveredRuns(repo, git, state, revision);
                state.syncs++;
                SyncResult result = reconcile(repo, state, snapshot, newRevision, runIds, waitFor, start,
                        healthExecutor);
                state.revision = revision;
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
            state.lock.unlock();
        }
    }

    /**
     * The runs a sync of {@code revision} delivers: the {@code Conveyor-Run} trailers of the commits since the revision
     * last reported (not the last applied: a run applied but not reported before a crash is delivered again), at most
     * {@link #MAX_COMMITS} of them. When history was rewritten (the reported revision is not an ancestor), the commits
     * since the common ancestor.
     */
    private List<String> deliveredRuns(RepoSpec repo, Repository git, RepoState state, String revision)
            throws IOException {
        String since = reported.since(repo, state.revision).orElse(null);
        if (revision.equals(since)) {
            return List.of();
        }
        if (since != null && !GitopsSnapshot.isAncestor(git, since, revision)) {
            LOG.infof("[flux-sync] repo %s: the reported revision %s is not an ancestor of %s (history rewritten); "
                    + "reporting the runs of the commits since their common ancestor, at most %d", repo.name(),
                    shortRev(since), shortRev(revision), MAX_COMMITS);
        }
        return RunTrailer.parse(GitopsSnapshot.messagesBetween(git, since, revision, MAX_COMMITS));
    }

    /**
     * Records that the runs {@code result} delivered were reported (the broker acknowledged their events): the next
     * sync reports the runs of the commits after its revision. An older sync's report never replaces a newer one's.
     */
    public void reported(SyncResult result) {
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
        try (Repository git = new org.eclipse.jgit.storage.file.FileRepositoryBuilder()
                .setGitDir(mirrors.mirrorDir(repo.url()).toFile()).setMustExist(true).build();
                org.eclipse.jgit.revwalk.RevWalk walk = new org.eclipse.jgit.revwalk.RevWalk(git)) {
            var id = org.eclipse.jgit.lib.ObjectId.fromString(commit);
            if (!git.getObjectDatabase().has(id)) {
                return false;
            }
            return walk.isMergedInto(walk.parseCommit(id), walk.parseCommit(org.eclipse.jgit.lib.ObjectId.fromString(
                    state.revision)));
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

    private SyncResult reconcile(RepoSpec repo, RepoState state, GitopsSnapshot snapshot, boolean newRevision,
            List<String> runIds, Set<String> waitFor, long start, Executor healthExecutor) throws IOException {
        SopsDecryptor.Decrypted files = sops.decryptAll(snapshot.yamlFiles());
        DesiredState desired = new RepoLayout(settings.chartsDir()).parse(files.files(), snapshot.allPaths());
        List<SyncProblem> problems = new ArrayList<>(desired.problems());
        Set<String> held = new LinkedHashSet<>(desired.heldOwners());
        // Files that cannot be decrypted keep their objects; their releases (read from the cleartext keys) are held.
        sensitiveOwners.put(repo.name(), sensitiveOwners(files, desired));
        Map<String, ReleaseResult> undecrypted = new LinkedHashMap<>();
        Map<String, ObjectRef> undecryptedRefs = new LinkedHashMap<>();
        files.failures().forEach((path, message) -> {
            String owner = Manifest.fileOwner(path);
            problems.add(new SyncProblem(owner, ProblemReason.DECRYPTION_FAILED, message));
            held.add(owner);
            for (ObjectRef ref : releaseRefs(path, snapshot.yamlFiles().get(path))) {
                held.add(Manifest.releaseOwner(ref.namespace(), ref.name()));
                String id = ref.namespace() + "/" + ref.name();
                undecrypted.put(id, new ReleaseResult(ref.namespace(), ref.name(), ref.name(),
                        ReleaseResult.State.FAILED, List.of(), ProblemReason.DECRYPTION_FAILED.name(), message, false));
                undecryptedRefs.put(id, ref);
            }
        });
        Counts counts = new Counts();
        Map<String, Map<String, Map<String, Object>>> liveByKind = new HashMap<>();
        List<Manifest> kept = new ArrayList<>();

        // 1. namespaces, CRDs, manifests and the release objects themselves, in kind order
        applyAll(repo, desired.objects(), liveByKind, counts, kept, problems);

        // 2. releases, each after the releases it depends on are healthy
        Map<String, ReleaseResult> results = new LinkedHashMap<>(undecrypted);
        Map<String, CompletableFuture<ReleaseResult>> pending = new LinkedHashMap<>();
        Set<String> dependedOn = new HashSet<>();
        desired.releases().forEach(r -> dependedOn.addAll(r.dependsOn()));
        Map<String, List<Manifest>> workloads = new LinkedHashMap<>();
        Map<String, Boolean> changed = new HashMap<>();
        for (ReleaseSpec release : desired.releases()) {
            String id = release.id();
            if (release.suspended()) {
                held.add(release.owner());
                results.put(id, result(release, ReleaseResult.State.SUSPENDED, List.of(), "Suspended",
                        "the release is suspended", false));
                continue;
            }
            String notReady = release.dependsOn().stream().filter(d -> results.get(d) == null
                    || results.get(d).state() != ReleaseResult.State.HEALTHY).findFirst().orElse(null);
            if (notReady != null) {
                held.add(release.owner());
                String msg = release.object().ref() + ": depends on " + notReady + ", which is not ready";
                problems.add(new SyncProblem(release.owner(), ProblemReason.DEPENDENCY_NOT_READY, msg));
                results.put(id, result(release, ReleaseResult.State.FAILED, List.of(),
                        ProblemReason.DEPENDENCY_NOT_READY.name(), msg, false));
                continue;
            }
            List<Manifest> rendered;
            Rendered output;
            try {
                output = render(repo, state, snapshot, release);
                rendered = output.manifests();
                if (output.key().equals(state.rolledBack.get(release.owner()))) {
                    // This exact version failed and was rolled back: wait for git to change it.
                    held.add(release.owner());
                    results.put(id, result(release, ReleaseResult.State.FAILED, List.of(), "RolledBack",
                            "this version failed to roll out and was rolled back; change it in git to retry",
                            false));
                    continue;
                }
                state.rolledBack.remove(release.owner());
            } catch (ReleaseFailure f) {
                held.add(release.owner());
                problems.add(new SyncProblem(release.owner(), f.reason, release.object().ref() + ": " + f
                        .getMessage()));
                results.put(id, result(release, ReleaseResult.State.FAILED, List.of(), f.reason.name(), f
                        .getMessage(), false));
                continue;
            }
            Counts before = counts.copy();
            int problemsBefore = problems.size();
            applyAll(repo, rendered, liveByKind, counts, kept, problems);
            boolean touched = counts.created + counts.updated > before.created + before.updated;
            changed.put(id, touched);
            if (problems.size() > problemsBefore) {
                SyncProblem first = problems.get(problemsBefore);
                results.put(id, result(release, ReleaseResult.State.FAILED, List.of(), first.reason().name(), first
                        .message(), touched));
                continue;
            }
            recordHelmRelease(repo, state, snapshot, release, output);
            List<Manifest> w = rendered.stream().filter(m -> WorkloadHealth.KINDS.contains(m.ref().kind()))
                    .toList();
            workloads.put(id, w);
            boolean wanted = waitFor.contains(id) || waitFor.contains(release.object().ref().namespace() + "/"
                    + release.releaseName());
            CompletableFuture<ReleaseResult> running = state.pendingHealth.get(release.owner());
            if (healthExecutor != null && !dependedOn.contains(id) && (touched || wanted || running != null)) {
                // The rollout is waited for off the sync (a rollout already being waited for is not waited twice).
                if (touched || running == null) {
                    running = deferHealth(repo, state, release, w, touched, output, snapshot.revision(),
                            healthExecutor);
                }
                pending.put(id, running);
                results.put(id, result(release, ReleaseResult.State.PROGRESSING, names(w), "Progressing",
                        "waiting for " + w.size() + " workloads to roll out", touched));
            } else if (dependedOn.contains(id) || touched || wanted) {
                ReleaseResult health = waitHealthy(release, w, touched);
                if (health.state() == ReleaseResult.State.DEGRADED && release.rollbackOnFailure() && touched) {
                    health = rollBack(repo, state, release, output, health, liveByKind, counts, kept, problems);
                }
                results.put(id, health);
            } else {
                results.put(id, result(release, ReleaseResult.State.HEALTHY, names(w), "ReconciliationSucceeded",
                        "release is up to date", false));
            }
        }

        // release objects that could not even be read as releases fail with the reason of their problem
        Map<String, ObjectRef> brokenReleases = new LinkedHashMap<>();
        for (Manifest m : desired.objects()) {
            String owner = Manifest.releaseOwner(m.ref().namespace(), m.ref().name());
            if (dev.conveyor.fluxsync.domain.ReleaseKind.of(m.ref()).isPresent() && desired.releases().stream()
                    .noneMatch(r -> r.owner().equals(owner))) {
                problems.stream().filter(p -> p.owner().equals(owner)).findFirst().ifPresent(p -> {
                    results.put(m.ref().namespace() + "/" + m.ref().name(), new ReleaseResult(m.ref().namespace(), m
                            .ref().name(), m.ref().name(), ReleaseResult.State.FAILED, List.of(), p.reason().name(),
                            p
                                    .message(),
                            false));
                    brokenReleases.put(m.ref().namespace() + "/" + m.ref().name(), m.ref());
                });
            }
        }

        // 3. prune what left git (owners that could not be synced keep their objects)
        Inventory next = Inventory.of(kept).holding(state.inventory, held);
        int pruned = 0;
        if (repo.prune()) {
            for (ObjectRef gone : next.pruneFrom(state.inventory)) {
                if (prune(repo, gone)) {
                    pruned++;
                }
            }
        } else {
            next = new Inventory(merge(next, state.inventory));
        }
        if (repo.prune()) {
            Set<String> releaseOwners = new HashSet<>(held);
            desired.objects().forEach(m -> releaseOwners.add(Manifest.releaseOwner(m.ref().namespace(), m.ref()
                    .name())));
            if (!state.helmChecked || !releaseOwners.containsAll(state.helmOwners)) {
                try {
                    helmStorage.forgetOthers(repo.name(), releaseOwners);
                    state.helmChecked = true;
                } catch (KubernetesClientException e) {
                    LOG.warnf("[flux-sync] repo %s: cannot remove helm records of removed releases: %s", repo
                            .name(), e.getMessage());
                }
            }
            state.helmOwners.retainAll(releaseOwners);
        }
        if (!next.equals(state.inventory) || newRevision) {
            saveInventory(repo, next, snapshot.revision());
        }
        state.inventory = next;

        // 4. conditions on the release objects, events for problems
        for (ReleaseSpec release : desired.releases()) {
            writeConditions(state, release.id(), release.object().ref(), results.get(release.id()), snapshot
                    .revision());
        }
        brokenReleases.forEach((id, ref) -> writeConditions(state, id, ref, results.get(id), snapshot.revision()));
        undecryptedRefs.forEach((id, ref) -> writeConditions(state, id, ref, results.get(id), snapshot.revision()));
        for (SyncProblem p : problems) {
            LOG.warnf("[flux-sync] repo %s at %s: %s: %s", repo.name(), shortRev(snapshot.revision()), p.reason(), p
                    .message());
        }
        ProblemEvents.record(cluster, settings.inventoryNamespace(), repo.name(), snapshot.revision(), problems);

        Duration duration = Duration.ofNanos(System.nanoTime() - start);
        SyncSummary summary = new SyncSummary(counts.created, counts.updated, counts.unchanged, pruned);
        record(repo, summary, counts.drifted, duration);
        if (counts.drifted > 0) {
            LOG.infof("[flux-sync] repo %s: corrected drift on %d objects", repo.name(), counts.drifted);
        }
        LOG.infof(
                "[flux-sync] repo %s synced %s: %d created, %d updated, %d unchanged, %d pruned, %d problems in %d ms",
                repo.name(), shortRev(snapshot.revision()), counts.created, counts.updated, counts.unchanged, pruned,
                problems.size(), duration.toMillis());
        return new SyncResult(repo.name(), GitUrls.redact(repo.url()), snapshot.revision(), newRevision, runIds,
                summary, counts.drifted, List.copyOf(problems), List.copyOf(results.values()), duration, Map.copyOf(
                        pending),
                state.syncs);
    }

    /**
     * The owners holding decrypted values: the decrypted files, the releases they declare, and the releases whose
     * {@code valuesFrom} names an object of a decrypted file.
     */
    private static Set<String> sensitiveOwners(SopsDecryptor.Decrypted files, DesiredState desired) {
        Set<String> owners = new HashSet<>();
        files.decrypted().forEach(path -> owners.add(Manifest.fileOwner(path)));
        if (owners.isEmpty()) {
            return owners;
        }
        Set<String> decryptedObjects = new HashSet<>();
        for (Manifest m : desired.objects()) {
            if (owners.contains(m.owner())) {
                decryptedObjects.add(m.ref().kind() + " " + m.ref().namespace() + "/" + m.ref().name());
            }
        }
        for (ReleaseSpec r : desired.releases()) {
            if (owners.contains(r.object().owner()) || r.valuesFrom().stream().anyMatch(v -> decryptedObjects
                    .contains(v.kind() + " " + v.namespace() + "/" + v.name()))) {
                owners.add(r.owner());
            }
        }
        return owners;
    }

    /** The release objects of a file that could not be decrypted, read from its cleartext keys. */
    private static List<ObjectRef> releaseRefs(String path, String text) {
        List<ObjectRef> out = new ArrayList<>();
        try {
            DesiredState plain = new RepoLayout("charts").parse(Map.of(path, text), Set.of());
            for (Manifest m : plain.objects()) {
                if (dev.conveyor.fluxsync.domain.ReleaseKind.of(m.ref()).isPresent()) {
                    out.add(m.ref());
                }
            }
        } catch (RuntimeException e) {
            // Not even readable: only the file is held.
        }
        return out;
    }

    /**
     * Starts the rollout wait of one release on the executor; when it ends, a failed upgrade is rolled back (if the
     * repository is still at that revision) and the release's conditions are written.
     */
    private CompletableFuture<ReleaseResult> deferHealth(RepoSpec repo, RepoState state, ReleaseSpec release,
            List<Manifest> workloads, boolean touched, Rendered output, String revision, Executor executor) {
        CompletableFuture<ReleaseResult> future = new CompletableFuture<>();
        state.pendingHealth.put(release.owner(), future);
        Instant deadline = clock.instant().plus(settings.healthTimeout());
        state.pendingWaits.put(release.owner(), new PendingWait(release.id(), release.object().ref(), release
                .releaseName(), workloads.stream().map(Manifest::ref).toList(), revision, deadline, touched));
        Runnable task = () -> {
            ReleaseResult health;
            try {
                health = waitHealthy(release, workloads, touched);
                if (Thread.currentThread().isInterrupted()) {
                    finish(state, release.owner(), future, health);
                    return;
                }
                state.lock.lock();
                try {
                    if (health.state() == ReleaseResult.State.DEGRADED && release.rollbackOnFailure() && touched
                            && revision.equals(state.revision)) {
                        health = rollBack(repo, state, release, output, health, new HashMap<>(), new Counts(),
                                new ArrayList<>(), new ArrayList<>());
                    }
                    writeConditions(state, release.id(), release.object().ref(), health, revision);
                } finally {
                    state.lock.unlock();
                }
            } catch (RuntimeException e) {
                health = result(release, ReleaseResult.State.DEGRADED, names(workloads), "HealthCheckFailed",
                        "the rollout could not be checked: " + e.getMessage(), touched);
            }
            finish(state, release.owner(), future, health);
        };
        try {
            executor.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            task.run();
        }
        return future;
    }

    private static Map<String, Set<ObjectRef>> merge(Inventory a, Inventory b) {
        Map<String, Set<ObjectRef>> map = new HashMap<>();
        for (Inventory i : List.of(a, b)) {
            i.byOwner().forEach((k, v) -> map.computeIfAbsent(k, x -> new LinkedHashSet<>()).addAll(v));
        }
        return map;
    }

    private static final class Counts {
        int created;
        int updated;
        int unchanged;
        int drifted;

        Counts copy() {
            Counts c = new Counts();
            c.created = created;
            c.updated = updated;
            c.unchanged = unchanged;
            c.drifted = drifted;
            return c;
        }
    }

    private static final class ReleaseFailure extends Exception {
        final ProblemReason reason;

        ReleaseFailure(ProblemReason reason, String message) {
            super(message);
            this.reason = reason;
        }
    }

    @SuppressWarnings("unchecked")
    private void applyAll(RepoSpec repo, List<Manifest> manifests, Map<String, Map<String, Map<String, Object>>> live,
            Counts counts, List<Manifest> kept, List<SyncProblem> problems) {
        for (Manifest m : manifests) {
            Map<String, Object> body = labelled(repo, m.body());
            String hash = LiveComparison.hash(body);
            ((Map<String, Object>) ((Map<String, Object>) body.get("metadata")).computeIfAbsent("annotations",
                    k -> new LinkedHashMap<>())).put(LiveComparison.HASH_ANNOTATION, hash);
            Map<String, Map<String, Object>> ofKind = live.computeIfAbsent(m.ref().apiVersion() + " " + m.ref()
                    .kind(), k -> cluster.listManaged(m.ref().apiVersion(), m.ref().kind(), repo.name()));
            Map<String, Object> current = ofKind.get(m.ref().id());
            LiveComparison.State s = LiveComparison.compare(body, hash, current);
            kept.add(m);
            if (s == LiveComparison.State.UNCHANGED) {
                counts.unchanged++;
                continue;
            }
            try {
                cluster.apply(body, current);
            } catch (KubeCluster.ApplyException e) {
                problems.add(new SyncProblem(m.owner(), e.unknownKind()
                        ? ProblemReason.UNKNOWN_KIND
                        : ProblemReason.APPLY_FAILED,
                        ownerText(m) + ": " + m.ref() + ": " + (sensitiveOwners
                                .getOrDefault(repo.name(), Set.of()).contains(m.owner())
                                        ? "the API server refused it (its message is withheld: the object holds "
                                                + "values decrypted from SOPS)"
                                        : e.getMessage())));
                continue;
            }
            switch (s) {
                case ABSENT -> counts.created++;
                case DRIFTED -> {
                    counts.updated++;
                    counts.drifted++;
                    LOG.infof("[flux-sync] repo %s: %s was changed in the cluster; restored from git", repo.name(), m
                            .ref());
                }
                default -> counts.updated++;
            }
        }
    }

    private static String ownerText(Manifest m) {
        return m.owner().startsWith("file:") ? m.owner().substring(5) : m.owner();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> labelled(RepoSpec repo, Map<String, Object> body) {
        Map<String, Object> out = deepCopy(body);
        Map<String, Object> md = (Map<String, Object>) out.computeIfAbsent("metadata", k -> new LinkedHashMap<>());
        Map<String, Object> labels = (Map<String, Object>) md.computeIfAbsent("labels", k -> new LinkedHashMap<>());
        labels.put(KubeCluster.REPO_LABEL, repo.name());
        labels.put(KubeCluster.MANAGED_BY_LABEL, KubeCluster.MANAGED_BY);
        return out;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> deepCopy(Map<String, Object> map) {
        Map<String, Object> out = new LinkedHashMap<>();
        map.forEach((k, v) -> out.put(k, copyValue(v)));
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Object copyValue(Object v) {
        if (v instanceof Map<?, ?> m) {
            return deepCopy((Map<String, Object>) m);
        }
        if (v instanceof List<?> l) {
            return new ArrayList<>(l.stream().map(RepoReconciler::copyValue).toList());
        }
        return v;
    }

    private record Rendered(List<Manifest> manifests, String key, String yaml, Map<String, Object> values) {
    }

    private Rendered render(RepoSpec repo, RepoState state, GitopsSnapshot snapshot, ReleaseSpec release)
            throws ReleaseFailure {
        Map<String, Object> values = new LinkedHashMap<>(release.values());
        StringBuilder valuesKey = new StringBuilder();
        for (ValuesRef ref : release.valuesFrom()) {
            String text = cluster.readData(ref.kind(), ref.namespace(), ref.name(), ref.key()).orElse(null);
            if (text == null) {
                if (ref.optional()) {
                    continue;
                }
                throw new ReleaseFailure(ProblemReason.VALUES_INVALID, ref.kind() + " " + ref.namespace() + "/"
                        + ref.name() + " has no key " + ref.key());
            }
            try {
                values = Values.merge(values, YamlDocuments.parseMap(ref.kind() + " " + ref.namespace() + "/" + ref
                        .name() + " key " + ref.key(), text));
            } catch (YamlDocuments.InvalidYamlException e) {
                // The message names the object and key; the content (maybe secret) is never quoted.
                throw new ReleaseFailure(ProblemReason.VALUES_INVALID, ref.kind() + " " + ref.namespace() + "/" + ref
                        .name() + " key " + ref.key() + " is not valid YAML values");
            }
        }
        valuesKey.append(LiveComparison.hash(values));
        String chartKey = release.chart() instanceof ChartSource.GitPath g
                ? snapshot.contentKey(g.path())
                : release.chart().toString();
        String cacheKey = LiveComparison.hash(Map.of("chart", chartKey, "values", valuesKey.toString(), "name",
                release.releaseName(), "ns", release.targetNamespace()));
        String yaml = state.renders.get(cacheKey);
        if (yaml == null) {
            try {
                if (release.chart() instanceof ChartSource.GitPath g) {
                    Path dir = settings.workDir().resolve("charts").resolve(chartKey);
                    if (!Files.exists(dir)) {
                        Files.createDirectories(dir.getParent());
                        snapshot.materialize(g.path(), dir);
                    }
                    yaml = renderer.render(dir, release.releaseName(), release.targetNamespace(), values);
                } else {
                    yaml = renderer.renderRemote(release.chart(), release.releaseName(), release.targetNamespace(),
                            values);
                }
            } catch (ChartRenderer.RenderException e) {
                boolean sensitive = sensitiveOwners.getOrDefault(repo.name(), Set.of()).contains(release.owner());
                throw new ReleaseFailure(release.chart() instanceof ChartSource.GitPath
                        ? ProblemReason.RENDER_FAILED
                        : e.authDenied() ? ProblemReason.CHART_REPO_AUTH_DENIED : ProblemReason.CHART_SOURCE_INVALID,
                        sensitive
                                ? "helm template failed (its message is withheld: the release's values were "
                                        + "decrypted from SOPS)"
                                : e.getMessage());
            } catch (IOException e) {
                throw new ReleaseFailure(ProblemReason.RENDER_FAILED, "cannot write the chart: " + e.getMessage());
            }
            if (state.renders.size() > 2_000) {
                state.renders.clear();
            }
            state.renders.put(cacheKey, yaml);
        }
        return new Rendered(parseRendered(release, yaml), cacheKey, yaml, values);
    }

    @SuppressWarnings("unchecked")
    private static List<Manifest> parseRendered(ReleaseSpec release, String yaml) throws ReleaseFailure {
        List<Map<String, Object>> docs;
        try {
            docs = YamlDocuments.parse("rendered chart of " + release.id(), yaml);
        } catch (YamlDocuments.InvalidYamlException e) {
            throw new ReleaseFailure(ProblemReason.RENDER_FAILED, e.getMessage());
        }
        List<Manifest> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Map<String, Object> doc : docs) {
            Object apiVersion = doc.get("apiVersion");
            Object kind = doc.get("kind");
            Map<String, Object> md = doc.get("metadata") instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
            if (!(apiVersion instanceof String) || !(kind instanceof String) || md == null || !(md.get(
                    "name") instanceof String name)) {
                throw new ReleaseFailure(ProblemReason.RENDER_FAILED,
                        "the chart rendered a document without apiVersion, kind or metadata.name");
            }
            String ns = "";
            if (!KindOrder.CLUSTER_SCOPED.contains(kind)) {
                ns = md.get("namespace") instanceof String n ? n : release.targetNamespace();
                md.put("namespace", ns);
            }
            Map<String, Object> annotations = (Map<String, Object>) md.computeIfAbsent("annotations",
                    k -> new LinkedHashMap<>());
            annotations.put("meta.helm.sh/release-name", release.releaseName());
            annotations.put("meta.helm.sh/release-namespace", release.targetNamespace());
            Map<String, Object> labels = (Map<String, Object>) md.computeIfAbsent("labels", k -> new LinkedHashMap<>());
            labels.putIfAbsent("app.kubernetes.io/managed-by", "Helm");
            ObjectRef ref = new ObjectRef((String) apiVersion, (String) kind, ns, name);
            if (seen.add(ref.id())) {
                out.add(new Manifest(ref, doc, release.owner()));
            }
        }
        out.sort(KindOrder.APPLY);
        return out;
    }

    private ReleaseResult waitHealthy(ReleaseSpec release, List<Manifest> workloads, boolean changed) {
        return waitHealthy(release.object().ref(), release.releaseName(), workloads.stream().map(Manifest::ref)
                .toList(), changed, System.nanoTime() + settings.healthTimeout().toNanos());
    }

    private ReleaseResult waitHealthy(ObjectRef release, String releaseName, List<ObjectRef> workloads,
            boolean changed, long deadline) {
        String last = "";
        List<String> names = refNames(workloads);
        while (true) {
            boolean allReady = true;
            for (ObjectRef w : workloads) {
                Map<String, Object> live = cluster.get(w).orElse(null);
                if (live == null) {
                    allReady = false;
                    last = w + " is missing";
                    break;
                }
                WorkloadHealth.Verdict v = WorkloadHealth.evaluate(live);
                if (v.status() == WorkloadHealth.Status.FAILED) {
                    return result(release, releaseName, ReleaseResult.State.DEGRADED, names, "RolloutFailed", w
                            + ": " + v.message(), changed);
                }
                if (v.status() == WorkloadHealth.Status.PROGRESSING) {
                    allReady = false;
                    last = w + ": " + v.message();
                    break;
                }
            }
            if (allReady) {
                return result(release, releaseName, ReleaseResult.State.HEALTHY, names, "ReconciliationSucceeded",
                        "all " + workloads.size() + " workloads are ready", changed);
            }
            if (System.nanoTime() > deadline) {
                return result(release, releaseName, ReleaseResult.State.DEGRADED, names, "RolloutTimeout",
                        "not ready after " + settings.healthTimeout().toSeconds() + " s: " + last, changed);
            }
            try {
                Thread.sleep(settings.healthPoll().toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return result(release, releaseName, ReleaseResult.State.DEGRADED, names, "Interrupted",
                        "interrupted while waiting for the rollout", changed);
            }
        }
    }

    /**
     * Puts the previous Helm revision's manifest back after a failed rollout (rollback on failure), and remembers the
     * failed version so the next intervals do not apply it again.
     */
    private ReleaseResult rollBack(RepoSpec repo, RepoState state, ReleaseSpec release, Rendered failed,
            ReleaseResult health, Map<String, Map<String, Map<String, Object>>> liveByKind, Counts counts,
            List<Manifest> kept, List<SyncProblem> problems) {
        String previous;
        try {
            previous = helmStorage.rollback(release.targetNamespace(), release.releaseName(), "rollback-" + failed
                    .key()).orElse(null);
        } catch (KubernetesClientException e) {
            previous = null;
        }
        if (previous == null) {
            return health;
        }
        List<Manifest> before;
        try {
            before = parseRendered(release, previous);
        } catch (ReleaseFailure e) {
            return health;
        }
        liveByKind.clear();
        kept.removeIf(m -> m.owner().equals(release.owner()));
        applyAll(repo, before, liveByKind, counts, kept, problems);
        helmStorage.record(new dev.conveyor.fluxsync.client.HelmReleaseStorage.Record(release.releaseName(), release
                .targetNamespace(), release.releaseName(), "rollback", null, Map.of(), previous,
                "rollback-" + failed
                        .key(),
                release.owner(), repo.name()));
        state.helmRecorded.put(release.owner(), "rollback-" + failed.key());
        state.rolledBack.put(release.owner(), failed.key());
        LOG.warnf("[flux-sync] repo %s: %s failed to roll out (%s); rolled back to the previous revision", repo.name(),
                release.id(), health.message());
        return new ReleaseResult(health.namespace(), health.name(), health.releaseName(), ReleaseResult.State.DEGRADED,
                health.workloads(), "RolledBack", health.message() + "; rolled back to the previous revision", true);
    }

    private static List<String> names(List<Manifest> workloads) {
        return refNames(workloads.stream().map(Manifest::ref).toList());
    }

    private static List<String> refNames(List<ObjectRef> workloads) {
        return workloads.stream().map(w -> w.kind() + "/" + w.namespace() + "/" + w.name()).toList();
    }

    private static ReleaseResult result(ReleaseSpec r, ReleaseResult.State state, List<String> workloads,
            String reason, String message, boolean changed) {
        return result(r.object().ref(), r.releaseName(), state, workloads, reason, message, changed);
    }

    private static ReleaseResult result(ObjectRef release, String releaseName, ReleaseResult.State state,
            List<String> workloads, String reason, String message, boolean changed) {
        return new ReleaseResult(release.namespace(), release.name(), releaseName, state, workloads, reason, message,
                changed);
    }

    private boolean prune(RepoSpec repo, ObjectRef ref) {
        Map<String, Object> live = cluster.get(ref).orElse(null);
        if (live == null) {
            return false;
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> md = (Map<String, Object>) live.getOrDefault("metadata", Map.of());
        Map<?, ?> labels = md.get("labels") instanceof Map<?, ?> l ? l : Map.of();
        Map<?, ?> annotations = md.get("annotations") instanceof Map<?, ?> a ? a : Map.of();
        if (!repo.name().equals(labels.get(KubeCluster.REPO_LABEL))) {
            LOG.warnf("[flux-sync] repo %s: not pruning %s, it is not labelled as ours", repo.name(), ref);
            return false;
        }
        if ("disabled".equals(annotations.get(KubeCluster.PRUNE_ANNOTATION))) {
            return false;
        }
        boolean deleted = cluster.delete(ref);
        if (deleted) {
            LOG.infof("[flux-sync] repo %s: pruned %s", repo.name(), ref);
        }
        return deleted;
    }

    private void writeConditions(RepoState state, String id, ObjectRef ref, ReleaseResult result, String revision) {
        if (result == null) {
            return;
        }
        boolean ready = result.state() == ReleaseResult.State.HEALTHY;
        boolean stalled = result.state() == ReleaseResult.State.FAILED;
        boolean reconciling = result.state() == ReleaseResult.State.PROGRESSING;
        String now = clock.instant().toString();
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("observedGeneration", 1);
        status.put("lastAppliedRevision", revision);
        status.put("lastAttemptedRevision", revision);
        status.put("helmReleaseName", result.releaseName());
        List<Map<String, Object>> conditions = new ArrayList<>();
        conditions.add(condition("Ready", ready, result.reason(), result.message(), now));
        conditions.add(condition("Reconciling", reconciling, ready ? "ReconciliationSucceeded" : result.reason(),
                result.message(), now));
        conditions.add(condition("Stalled", stalled, result.reason(), result.message(), now));
        status.put("conditions", conditions);
        Map<String, Object> comparable = new LinkedHashMap<>(status);
        comparable.put("conditions", conditions.stream().map(c -> {
            Map<String, Object> copy = new LinkedHashMap<>(c);
            copy.remove("lastTransitionTime");
            return copy;
        }).toList());
        if (Objects.equals(state.conditions.get(id), comparable)) {
            return;
        }
        try {
            cluster.writeStatus(ref, status);
            state.conditions.put(id, comparable);
        } catch (KubernetesClientException e) {
            LOG.warnf("[flux-sync] cannot write the status of %s: %s", ref, e.getMessage());
        }
    }

    private static Map<String, Object> condition(String type, boolean status, String reason, String message,
            String now) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("type", type);
        c.put("status", status ? "True" : "False");
        c.put("reason", reason);
        c.put("message", message);
        c.put("lastTransitionTime", now);
        return c;
    }

    private String inventoryName(RepoSpec repo) {
        return "flux-sync-inventory-" + repo.name();
    }

    private void loadInventory(RepoSpec repo, RepoState state) {
        ConfigMap cm = cluster.configMap(settings.inventoryNamespace(), inventoryName(repo)).orElse(null);
        if (cm == null || cm.getData() == null) {
            state.inventory = Inventory.empty();
            return;
        }
        Map<String, String> byOwner = new HashMap<>();
        for (String line : cm.getData().getOrDefault("inventory", "").split("\n")) {
            int tab = line.indexOf('\t');
            if (tab > 0) {
                byOwner.merge(line.substring(0, tab), line.substring(tab + 1) + "\n", String::concat);
            }
        }
        state.inventory = Inventory.fromData(byOwner);
        if (cm.getMetadata().getAnnotations() != null) {
            state.revision = cm.getMetadata().getAnnotations().get("conveyor.dev/revision");
        }
    }

    private void saveInventory(RepoSpec repo, Inventory inventory, String revision) {
        StringBuilder sb = new StringBuilder();
        inventory.byOwner().forEach((owner, refs) -> refs.forEach(r -> sb.append(owner).append('\t').append(r
                .toLine()).append('\n')));
        ConfigMap cm = new ConfigMapBuilder().withNewMetadata().withName(inventoryName(repo))
                .withNamespace(settings.inventoryNamespace()).addToLabels(KubeCluster.MANAGED_BY_LABEL,
                        KubeCluster.MANAGED_BY)
                .addToAnnotations("conveyor.dev/revision", revision).addToAnnotations("conveyor.dev/url", GitUrls
                        .redact(repo.url()))
                .endMetadata().addToData("inventory", sb.toString()).build();
        cluster.putConfigMap(cm);
    }

    private final Map<String, java.util.concurrent.atomic.AtomicInteger> gauges = new ConcurrentHashMap<>();

    private void record(RepoSpec repo, SyncSummary summary, int drifted, Duration duration) {
        if (metrics == null) {
            return;
        }
        Timer.builder("conveyor.sync.duration").description("Duration of one sync of a GitOps repository")
                .tag("repo", repo.name()).register(metrics).record(duration);
        gauge(repo, "created").set(summary.created());
        gauge(repo, "updated").set(summary.updated());
        gauge(repo, "unchanged").set(summary.unchanged());
        gauge(repo, "pruned").set(summary.pruned());
        gauge(repo, "drift_corrected").set(drifted);
    }

    /** {@code conveyor_sync_objects{repo,action}}: the object counts of the repository's last sync. */
    private java.util.concurrent.atomic.AtomicInteger gauge(RepoSpec repo, String action) {
        return gauges.computeIfAbsent(repo.name() + "/" + action, k -> metrics.gauge("conveyor.sync.objects",
                List.of(io.micrometer.core.instrument.Tag.of("repo", repo.name()), io.micrometer.core.instrument.Tag
                        .of("action", action)),
                new java.util.concurrent.atomic.AtomicInteger()));
    }

    private static String shortRev(String revision) {
        return revision.length() > 12 ? revision.substring(0, 12) : revision;
    }
}
