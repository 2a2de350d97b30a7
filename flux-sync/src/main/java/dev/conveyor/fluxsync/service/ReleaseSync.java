package dev.conveyor.fluxsync.service;

import java.util.ArrayList;
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

    Outcome sync(RepoSpec repo, RepoState state, GitopsSnapshot snapshot, Planner.Plan plan, Set<String> waitFor,
            Executor healthExecutor, Applier.LiveObjects live) {
        Map<String, ReleaseResult> results = new LinkedHashMap<>();
        plan.undecrypted().forEach((id, u) -> results.put(id, u.result()));
        Map<String, CompletableFuture<ReleaseResult>> pending = new LinkedHashMap<>();
        Set<String> held = new LinkedHashSet<>();
        List<SyncProblem> problems = new ArrayList<>();
        Applier.Applied applied = Applier.Applied.NOTHING;
        Set<String> dependedOn = new HashSet<>();
        plan.desired().releases().forEach(r -> dependedOn.addAll(r.dependsOn()));
        for (ReleaseSpec release : plan.desired().releases()) {
            One one = one(repo, state, snapshot, plan, release, results, dependedOn.contains(release.id()), waitFor,
                    healthExecutor, live);
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

    private One one(RepoSpec repo, RepoState state, GitopsSnapshot snapshot, Planner.Plan plan, ReleaseSpec release,
            Map<String, ReleaseResult> results, boolean dependedOn, Set<String> waitFor, Executor healthExecutor,
            Applier.LiveObjects live) {
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
        // render
        ReleaseRenderer.Rendering rendering;
        try {
            rendering = renderer.render(state, snapshot, release, plan.sensitive().contains(release.owner()));
        } catch (ReleaseRenderer.Failure f) {
            return One.failed(result(release, ReleaseResult.State.FAILED, f.reason, f.getMessage()), new SyncProblem(
                    release.owner(), f.reason, release.object().ref() + ": " + f.getMessage()));
        }
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
        recordHelmRelease(repo, state, release, rendering);
        List<Manifest> workloads = rendering.manifests().stream().filter(m -> WorkloadHealth.KINDS.contains(m.ref()
                .kind())).toList();
        HealthCheck.Target target = new HealthCheck.Target(release.object().ref(), release.releaseName(), workloads
                .stream().map(Manifest::ref).toList(), touched);
        boolean wanted = waitFor.contains(release.id()) || waitFor.contains(release.object().ref().namespace() + "/"
                + release.releaseName());
        CompletableFuture<ReleaseResult> running = state.pendingHealth.get(release.owner());
        ReleaseResult result;
        CompletableFuture<ReleaseResult> pending = null;
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
            result = target.result(ReleaseResult.State.HEALTHY, ProblemReason.SUCCEEDED, "release is up to date");
        } else {
            // Not seen healthy at this render (it timed out, failed, or this process has not checked it yet): read
            // its workloads again on every sync until they are ready.
            ReleaseConditions last = state.conditions.get(release.id());
            ProblemReason still = last != null && !last.ready().status() && (last.ready()
                    .reason() == ProblemReason.ROLLOUT_TIMEOUT || last.ready().reason() == ProblemReason.ROLLOUT_FAILED)
                            ? last.ready().reason()
                            : ProblemReason.PROGRESSING;
            result = health.once(target, still);
        }
        if (result.state() == ReleaseResult.State.HEALTHY) {
            state.healthy.put(release.owner(), rendering.key());
        }
        if (!rendering.skippedHooks().isEmpty()) {
            result = result.withMessage(result.message() + "; Helm hooks not run: " + String.join(", ", rendering
                    .skippedHooks()));
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
