package dev.conveyor.fluxsync.service;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

import org.jboss.logging.Logger;

import dev.conveyor.fluxsync.client.GitopsSnapshot;
import dev.conveyor.fluxsync.client.HelmReleaseStorage;
import dev.conveyor.fluxsync.domain.Manifest;
import dev.conveyor.fluxsync.domain.ProblemReason;
import dev.conveyor.fluxsync.domain.ReleaseKind;
import dev.conveyor.fluxsync.domain.ReleaseSpec;
import dev.conveyor.fluxsync.domain.SyncProblem;
import dev.conveyor.fluxsync.domain.WorkloadHealth;

/**
 * The releases of one sync, in dependency order, each through its phases: render ({@link ReleaseRenderer}), check
 * that every kind is served and apply all or nothing ({@link Applier}), record in Helm's storage, then health
 * ({@link HealthCheck}, off the sync through {@link DeferredHealth} when it can be) and remediation
 * ({@link Remediation}). A release not known healthy is checked again on every sync until it is.
 */
final class ReleaseSync {

    private static final Logger LOG = Logger.getLogger(ReleaseSync.class);

    /**
     * The releases' part of a sync.
     *
     * @param results by release id ({@code namespace/name}), release objects that could not be read included
     * @param brokenReleases the ids of release objects that could not be read as releases
     * @param pending the rollout waits running off the sync, by release id
     * @param applied what applying the renderings (and rollbacks) did
     * @param held owners whose previous objects are kept this round
     * @param problems the releases' problems
     */
    record Outcome(Map<String, ReleaseResult> results,
            Map<String, dev.conveyor.fluxsync.domain.ObjectRef> brokenReleases,
            Map<String, CompletableFuture<ReleaseResult>> pending, Applier.Applied applied, Set<String> held,
            List<SyncProblem> problems) {
    }

    private final ReleaseRenderer renderer;
    private final Applier applier;
    private final HealthCheck health;
    private final Remediation remediation;
    private final DeferredHealth deferred;
    private final HelmReleaseStorage helm;

    ReleaseSync(ReleaseRenderer renderer, Applier applier, HealthCheck health, Remediation remediation,
            DeferredHealth deferred, HelmReleaseStorage helm) {
        this.renderer = renderer;
        this.applier = applier;
        this.health = health;
        this.remediation = remediation;
        this.deferred = deferred;
        this.helm = helm;
    }

    /** What one release became, with what applying it did. */
    private record One(ReleaseResult result, Applier.Applied applied, boolean held, Optional<SyncProblem> problem,
            CompletableFuture<ReleaseResult> pending) {

        static One failed(ReleaseResult result, SyncProblem problem) {
            return new One(result, Applier.Applied.NOTHING, true, Optional.ofNullable(problem), null);
        }
    }

    /**
     * Where the releases' work runs: {@code render} renders the releases ahead of their turn, {@code apply} applies
     * each release (and waits for what the sync waits for) once the releases it must come after are done. Both
     * bounded; {@link #SERIAL} (null executors) does everything on the sync's thread, one release after the other.
     */
    record Pools(Executor render, Executor apply) {
        static final Pools SERIAL = new Pools(null, null);

        boolean serial() {
            return render == null || apply == null;
        }
    }

    /** A render done ahead of the release's turn: the rendering, or why there is none. */
    private record Rendered(ReleaseRenderer.Rendering rendering, ReleaseRenderer.Failure failure,
            RuntimeException error) {

        /** Whether the rendering holds objects that releases after it may need served (namespaces, CRDs). */
        boolean foundation() {
            return rendering != null && rendering.manifests().stream().anyMatch(m -> FOUNDATION_KINDS.contains(m
                    .ref().kind()));
        }
    }

    /** Kinds that other releases' objects may need before theirs are checked and applied. */
    static final Set<String> FOUNDATION_KINDS = Set.of("Namespace", "CustomResourceDefinition");

    Outcome sync(RepoSpec repo, RepoState state, GitopsSnapshot snapshot, Planner.Plan plan, Set<String> waitFor,
            Executor healthExecutor, Applier.LiveObjects live) {
        return sync(repo, state, snapshot, plan, waitFor, healthExecutor, live, Pools.SERIAL);
    }

    /**
     * The releases of the plan. With {@link Pools} that are not serial: every release that is not suspended is rendered
     * ahead on {@code pools.render()} (a release that takes {@code valuesFrom} and depends on others is rendered at its
     * turn, after them: it may read what they created); each release is then checked and applied on
     * {@code pools.apply()} once (1) the releases it depends on are done (healthy or not: it fails
     * {@code DependencyNotReady} as before when they are not healthy, and its early render is dropped, never applied
     * nor reported) and (2) every release before it in the order whose rendering holds a namespace or CRD was applied,
     * so what the serial order made served is served. Results, problems and counts are gathered in the release order,
     * as the serial sync gives them. A failure that stops the sync (the fence, the API server unreachable) stops the
     * releases not started yet and is thrown once the started ones are done.
     */
    Outcome sync(RepoSpec repo, RepoState state, GitopsSnapshot snapshot, Planner.Plan plan, Set<String> waitFor,
            Executor healthExecutor, Applier.LiveObjects live, Pools pools) {
        Map<String, ReleaseResult> results = new LinkedHashMap<>();
        plan.undecrypted().forEach((id, u) -> results.put(id, u.result()));
        Map<String, CompletableFuture<ReleaseResult>> pending = new LinkedHashMap<>();
        Set<String> held = new LinkedHashSet<>();
        List<SyncProblem> problems = new ArrayList<>();
        Applier.Applied applied = Applier.Applied.NOTHING;
        Set<String> dependedOn = new HashSet<>();
        List<ReleaseSpec> releases = plan.desired().releases();
        releases.forEach(r -> dependedOn.addAll(r.dependsOn()));
        SyncTimings timings = live.timings();
        Executor applyPool = pools.serial() ? Runnable::run : pools.apply();
        Map<String, CompletableFuture<Rendered>> ahead = new HashMap<>();
        if (!pools.serial()) {
            for (ReleaseSpec release : releases) {
                if (!release.suspended() && (release.valuesFrom().isEmpty() || release.dependsOn().isEmpty())) {
                    ahead.put(release.id(), CompletableFuture.supplyAsync(() -> render(state, snapshot, plan, release,
                            timings), pools.render()));
                }
            }
        }
        Map<String, ReleaseResult> known = new java.util.concurrent.ConcurrentHashMap<>(results);
        java.util.concurrent.atomic.AtomicReference<RuntimeException> stop = new java.util.concurrent.atomic.AtomicReference<>();
        Map<String, CompletableFuture<One>> done = new LinkedHashMap<>();
        CompletableFuture<?> foundations = CompletableFuture.completedFuture(null);
        for (ReleaseSpec release : releases) {
            List<CompletableFuture<?>> before = new ArrayList<>();
            release.dependsOn().stream().map(done::get).filter(java.util.Objects::nonNull).forEach(before::add);
            before.add(foundations);
            CompletableFuture<Rendered> early = ahead.get(release.id());
            if (early != null) {
                before.add(early);
            }
            boolean isDependedOn = dependedOn.contains(release.id());
            CompletableFuture<One> one = CompletableFuture.allOf(before.toArray(CompletableFuture[]::new)).handle((
                    x, e) -> null).thenApplyAsync(x -> {
                        RuntimeException stopped = stop.get();
                        if (stopped != null) {
                            throw stopped;
                        }
                        try {
                            One o = one(repo, state, snapshot, plan, release, known, isDependedOn, waitFor,
                                    healthExecutor, live, early == null ? null : early.join());
                            known.put(release.id(), o.result());
                            return o;
                        } catch (RuntimeException e) {
                            stop.compareAndSet(null, e);
                            throw e;
                        }
                    }, applyPool);
            done.put(release.id(), one);
            // the releases after this one wait for it when its rendering holds namespaces or CRDs (or when it is
            // rendered at its turn, so not known ahead)
            CompletableFuture<?> gate = release.suspended()
                    ? CompletableFuture.completedFuture(null)
                    : early == null
                            ? one
                            : early.thenCompose(r -> r.foundation()
                                    ? one.handle((x, e) -> null)
                                    : CompletableFuture.completedFuture(null));
            foundations = CompletableFuture.allOf(foundations, gate).handle((x, e) -> null);
        }
        // wait for every release that started, then fail as the serial sync did at the first failure
        CompletableFuture.allOf(done.values().toArray(CompletableFuture[]::new)).handle((x, e) -> null).join();
        if (stop.get() != null) {
            ahead.values().forEach(f -> f.cancel(false));
            throw stop.get();
        }
        for (ReleaseSpec release : releases) {
            One one = done.get(release.id()).join();
            results.put(release.id(), one.result());
            applied = applied.plus(one.applied());
            if (one.held()) {
                held.add(release.owner());
            }
            one.problem().ifPresent(problems::add);
            if (one.pending() != null) {
                pending.put(release.id(), one.pending());
            }
            if (one.result().state() != ReleaseResult.State.HEALTHY) {
                // not seen healthy at its current rendering (a wait off the sync puts it back when it ends healthy)
                state.healthy.remove(release.owner());
            }
        }
        // release objects that could not even be read as releases fail with the reason of their problem
        Map<String, dev.conveyor.fluxsync.domain.ObjectRef> broken = new LinkedHashMap<>();
        for (Manifest m : plan.desired().objects()) {
            String owner = Manifest.releaseOwner(m.ref().namespace(), m.ref().name());
            if (ReleaseKind.of(m.ref()).isPresent() && plan.desired().releases().stream().noneMatch(r -> r.owner()
                    .equals(owner))) {
                plan.problems().stream().filter(p -> p.owner().equals(owner)).findFirst().ifPresent(p -> {
                    String id = m.ref().namespace() + "/" + m.ref().name();
                    results.put(id, new ReleaseResult(m.ref().namespace(), m.ref().name(), m.ref().name(),
                            ReleaseResult.State.FAILED, List.of(), p.reason(), p.message(), false));
                    broken.put(id, m.ref());
                });
            }
        }
        return new Outcome(results, broken, pending, applied, held, problems);
    }

    /** Renders {@code release} (timed), keeping a failure as its outcome. */
    private Rendered render(RepoState state, GitopsSnapshot snapshot, Planner.Plan plan, ReleaseSpec release,
            SyncTimings timings) {
        long start = System.nanoTime();
        timings.renderStarted();
        try {
            return new Rendered(renderer.render(state, snapshot, release, plan.sensitive().contains(release.owner())),
                    null, null);
        } catch (ReleaseRenderer.Failure f) {
            return new Rendered(null, f, null);
        } catch (RuntimeException e) {
            return new Rendered(null, null, e);
        } finally {
            timings.renderEnded();
            timings.since(SyncTimings.RENDER, start);
        }
    }

    /**
     * One release at its turn; {@code early} is its render done ahead, or null to render it now. {@code results}
     * holds the results of the releases it depends on.
     */
    private One one(RepoSpec repo, RepoState state, GitopsSnapshot snapshot, Planner.Plan plan, ReleaseSpec release,
            Map<String, ReleaseResult> results, boolean dependedOn, Set<String> waitFor, Executor healthExecutor,
            Applier.LiveObjects live, Rendered early) {
        SyncTimings timings = live.timings();
        if (release.suspended()) {
            return One.failed(result(release, ReleaseResult.State.SUSPENDED, ProblemReason.SUSPENDED,
                    "the release is suspended"), null);
        }
        String notReady = release.dependsOn().stream().filter(d -> results.get(d) == null || results.get(d)
                .state() != ReleaseResult.State.HEALTHY).findFirst().orElse(null);
        if (notReady != null) {
            String msg = release.object().ref() + ": depends on " + notReady + ", which is not ready";
            return One.failed(result(release, ReleaseResult.State.FAILED, ProblemReason.DEPENDENCY_NOT_READY, msg),
                    new SyncProblem(release.owner(), ProblemReason.DEPENDENCY_NOT_READY, msg));
        }
        // render (unless done ahead)
        Rendered rendered = early != null ? early : render(state, snapshot, plan, release, timings);
        if (rendered.error() != null) {
            throw rendered.error();
        }
        if (rendered.failure() != null) {
            ReleaseRenderer.Failure f = rendered.failure();
            return One.failed(result(release, ReleaseResult.State.FAILED, f.reason, f.getMessage()), new SyncProblem(
                    release.owner(), f.reason, release.object().ref() + ": " + f.getMessage()));
        }
        ReleaseRenderer.Rendering rendering = rendered.rendering();
        if (rendering.key().equals(state.rolledBack.get(release.owner()))) {
            // This exact version failed and was rolled back: wait for git to change it.
            return One.failed(result(release, ReleaseResult.State.FAILED, ProblemReason.ROLLED_BACK,
                    "this version failed to roll out and was rolled back; change it in git to retry"), null);
        }
        state.rolledBack.remove(release.owner());
        // all or nothing: a kind the server does not serve fails the release before anything of it is applied
        Optional<SyncProblem> unserved = applier.unserved(repo, live, release.owner(), rendering.manifests());
        if (unserved.isPresent()) {
            SyncProblem p = unserved.get();
            return One.failed(result(release, ReleaseResult.State.FAILED, p.reason(), p.message()), new SyncProblem(p
                    .owner(), p.reason(), release.object().ref() + ": " + p.message()));
        }
        // apply, if this replica still owns the repository
        state.fence.run();
        Applier.Applied applied = applier.apply(repo, live, rendering.manifests(), plan.sensitive());
        boolean touched = applied.touched();
        if (touched && !rendering.skippedHooks().isEmpty()) {
            LOG.infof("[flux-sync] repo %s: %s: Helm hooks not run (flux-sync does not run hooks): %s", repo.name(),
                    release.id(), String.join(", ", rendering.skippedHooks()));
        }
        if (!applied.problems().isEmpty()) {
            SyncProblem first = applied.problems().get(0);
            return new One(new ReleaseResult(release.object().ref().namespace(), release.object().ref().name(),
                    release.releaseName(), ReleaseResult.State.FAILED, List.of(), first.reason(), first.message(),
                    touched), applied, false, Optional.empty(), null);
        }
        long recordStart = System.nanoTime();
        recordHelmRelease(repo, state, release, rendering);
        timings.since(SyncTimings.HELM_RECORD, recordStart);
        List<Manifest> workloads = rendering.manifests().stream().filter(m -> WorkloadHealth.KINDS.contains(m.ref()
                .kind())).toList();
        HealthCheck.Target target = new HealthCheck.Target(release.object().ref(), release.releaseName(), workloads
                .stream().map(Manifest::ref).toList(), touched);
        boolean wanted = waitFor.contains(release.id()) || waitFor.contains(release.object().ref().namespace() + "/"
                + release.releaseName());
        CompletableFuture<ReleaseResult> running = state.pendingHealth.get(release.owner());
        ReleaseResult result;
        CompletableFuture<ReleaseResult> pending = null;
        long healthStart = System.nanoTime();
        ReleaseConditions looked = null;
        if (healthExecutor != null && !dependedOn && (touched || wanted || running != null)) {
            // The rollout is waited for off the sync (a rollout already being waited for is not waited twice).
            if (touched || running == null) {
                running = deferred.defer(repo, state, release, target, rendering.key(), snapshot.revision(),
                        healthExecutor);
            }
            pending = running;
            result = target.result(ReleaseResult.State.PROGRESSING, ProblemReason.PROGRESSING, "waiting for "
                    + workloads.size() + " workloads to roll out");
        } else if (dependedOn || touched || wanted) {
            result = health.await(target);
            if (result.state() == ReleaseResult.State.DEGRADED && release.rollbackOnFailure() && touched) {
                state.fence.run();
                Optional<Remediation.Outcome> rolled = remediation.rollBack(repo, state, release, rendering.key(),
                        result, plan.sensitive());
                if (rolled.isPresent()) {
                    result = rolled.get().result();
                    Applier.Applied back = rolled.get().applied();
                    applied = new Applier.Applied(applied.created() + back.created(), applied.updated() + back
                            .updated(), applied.unchanged() + back.unchanged(), applied.drifted() + back.drifted(),
                            back.kept(), back.problems());
                }
            }
        } else if (rendering.key().equals(state.healthy.get(release.owner()))) {
            // seen ready at this rendering: not read again, reported as when it was seen
            result = HealthCheck.ready(target);
        } else {
            // Not seen healthy at this render (it timed out, failed, or this process has not checked it yet): read
            // its workloads again on every sync until they are ready.
            ReleaseConditions last = state.conditions.get(release.id());
            ProblemReason still = last != null && !last.ready().status() && (last.ready()
                    .reason() == ProblemReason.ROLLOUT_TIMEOUT || last.ready().reason() == ProblemReason.ROLLOUT_FAILED)
                            ? last.ready().reason()
                            : ProblemReason.PROGRESSING;
            // Nothing of the release was written by this sync (untouched), so its workloads as this sync listed
            // them (labelled with the repository, listed once per kind) are what the API server holds: read from the
            // list, not one GET each; a workload the list does not hold is read by itself.
            result = health.once(target, still, ref -> applier.listed(live, ref));
            looked = last;
        }
        timings.since(SyncTimings.HEALTH, healthStart);
        if (result.state() == ReleaseResult.State.HEALTHY) {
            state.healthy.put(release.owner(), rendering.key());
        }
        if (!rendering.skippedHooks().isEmpty()) {
            result = result.withMessage(result.message() + "; Helm hooks not run: " + String.join(", ", rendering
                    .skippedHooks()));
        }
        if (looked != null && result.state() == ReleaseResult.State.DEGRADED && result.reason() == looked.ready()
                .reason()) {
            // as unready as when the last wait gave up: keep its message, so its conditions are not written again
            result = result.withMessage(HealthCheck.stillWaiting(looked.ready().message(), result.message()));
        }
        return new One(result, applied, false, Optional.empty(), pending);
    }

    private static ReleaseResult result(ReleaseSpec r, ReleaseResult.State state, ProblemReason reason,
            String message) {
        return new ReleaseResult(r.object().ref().namespace(), r.object().ref().name(), r.releaseName(), state, List
                .of(), reason, message, false);
    }

    /**
     * Records the release in Helm's storage ({@code helm list}) when its render changed; a failure to record is
     * logged, it does not fail the release.
     */
    private void recordHelmRelease(RepoSpec repo, RepoState state, ReleaseSpec release,
            ReleaseRenderer.Rendering output) {
        if (output.key().equals(state.helmRecorded.get(release.owner()))) {
            return;
        }
        try {
            helm.record(new HelmReleaseStorage.Record(release.releaseName(), release.targetNamespace(), output
                    .chart().chartName(), output.chart().chartVersion(), output.chart().appVersion(), output.values(),
                    output.yaml(), output.key(), release.owner(), repo
                            .name()));
            state.helmRecorded.put(release.owner(), output.key());
            state.helmOwners.add(release.owner());
        } catch (RuntimeException e) {
            LOG.warnf("[flux-sync] repo %s: cannot record release %s for helm: %s", repo.name(), release.id(), e
                    .getMessage());
        }
    }
}
