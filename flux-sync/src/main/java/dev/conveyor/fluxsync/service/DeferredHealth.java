package dev.conveyor.fluxsync.service;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

import dev.conveyor.fluxsync.domain.Manifest;
import dev.conveyor.fluxsync.domain.ProblemReason;
import dev.conveyor.fluxsync.domain.ReleaseSpec;

/**
 * Rollout waits off the sync: {@link HealthCheck} on an executor, then (under the repository's lock) remediation of a
 * failed upgrade when the repository is still at that revision, and the release's conditions. A wait interrupted
 * because the process stops ends in a {@link CancellationException} (its persisted record stays, the next process
 * resumes it).
 */
final class DeferredHealth {

    private final HealthCheck health;
    private final Remediation remediation;
    private final ConditionWriter conditions;
    private final Clock clock;

    DeferredHealth(HealthCheck health, Remediation remediation, ConditionWriter conditions, Clock clock) {
        this.health = health;
        this.remediation = remediation;
        this.conditions = conditions;
        this.clock = clock;
    }

    /** Starts the wait of a release the sync changed (or a run waits for). */
    CompletableFuture<ReleaseResult> defer(RepoSpec repo, RepoState state, ReleaseSpec release,
            HealthCheck.Target target, String renderKey, String revision, Executor executor) {
        CompletableFuture<ReleaseResult> future = new CompletableFuture<>();
        state.pendingHealth.put(release.owner(), future);
        Instant deadline = clock.instant().plus(health.timeout());
        state.pendingWaits.put(release.owner(), new RepoReconciler.PendingWait(release.id(), target.release(), target
                .releaseName(), target.workloads(), revision, deadline, target.changed()));
        run(executor, () -> {
            ReleaseResult result;
            try {
                result = health.await(target);
                if (Thread.currentThread().isInterrupted()) {
                    finish(state, release.owner(), future, result);
                    return;
                }
                state.lock.lock();
                try {
                    state.fence.run();
                    if (result.state() == ReleaseResult.State.DEGRADED && release.rollbackOnFailure() && target
                            .changed() && revision.equals(state.revision)) {
                        ReleaseResult failed = result;
                        result = remediation.rollBack(repo, state, release, renderKey, failed, state.sensitiveOwners)
                                .map(Remediation.Outcome::result).orElse(failed);
                    }
                    if (result.state() == ReleaseResult.State.HEALTHY) {
                        state.healthy.put(release.owner(), renderKey);
                    } else {
                        state.healthy.remove(release.owner());
                    }
                    conditions.write(state, release.id(), release.object().ref(), result, revision);
                } finally {
                    state.lock.unlock();
                }
            } catch (RuntimeException e) {
                result = target.result(ReleaseResult.State.DEGRADED, ProblemReason.HEALTH_CHECK_FAILED,
                        "the rollout could not be checked: " + e.getMessage());
            }
            finish(state, release.owner(), future, result);
        });
        return future;
    }

    /**
     * Resumes a wait another process started: polls the workloads until they roll out or the wait's deadline passes,
     * then writes the release's conditions. A failed upgrade is not rolled back (the failed render is not known
     * here). When a wait for the release already runs, that one is returned.
     */
    CompletableFuture<ReleaseResult> resume(RepoState state, RepoReconciler.PendingWait wait, Executor executor) {
        String owner = Manifest.releaseOwner(wait.release().namespace(), wait.release().name());
        CompletableFuture<ReleaseResult> future = new CompletableFuture<>();
        CompletableFuture<ReleaseResult> running = state.pendingHealth.putIfAbsent(owner, future);
        if (running != null) {
            return running;
        }
        state.pendingWaits.put(owner, wait);
        HealthCheck.Target target = new HealthCheck.Target(wait.release(), wait.releaseName(), wait.workloads(), wait
                .changed());
        run(executor, () -> {
            ReleaseResult result;
            try {
                result = health.await(target, System.nanoTime() + Math.max(0, Duration.between(clock.instant(), wait
                        .deadline()).toNanos()));
                if (!Thread.currentThread().isInterrupted()) {
                    state.lock.lock();
                    try {
                        state.fence.run();
                        conditions.write(state, wait.releaseId(), wait.release(), result, wait.revision());
                    } finally {
                        state.lock.unlock();
                    }
                }
            } catch (RuntimeException e) {
                result = target.result(ReleaseResult.State.DEGRADED, ProblemReason.HEALTH_CHECK_FAILED,
                        "the rollout could not be checked: " + e.getMessage());
            }
            finish(state, owner, future, result);
        });
        return future;
    }

    private static void run(Executor executor, Runnable task) {
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            task.run();
        }
    }

    private static void finish(RepoState state, String owner, CompletableFuture<ReleaseResult> future,
            ReleaseResult result) {
        if (state.pendingHealth.remove(owner, future)) {
            state.pendingWaits.remove(owner);
        }
        if (Thread.currentThread().isInterrupted()) {
            future.completeExceptionally(new CancellationException("the rollout wait was stopped"));
        } else {
            future.complete(result);
        }
    }
}
