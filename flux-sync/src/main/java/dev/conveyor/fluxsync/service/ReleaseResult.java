package dev.conveyor.fluxsync.service;

import java.util.List;

import dev.conveyor.fluxsync.domain.ProblemReason;

/**
 * What became of one release in a sync.
 *
 * @param namespace namespace of the release object
 * @param name name of the release object
 * @param releaseName the Helm release name
 * @param state how it ended
 * @param workloads the workloads waited for ({@code Kind/namespace/name})
 * @param reason why it ended so (its condition value is {@link ProblemReason#condition()})
 * @param message for people, with the root cause
 * @param changed whether any of its objects was created or updated
 */
public record ReleaseResult(String namespace, String name, String releaseName, State state, List<String> workloads,
        ProblemReason reason, String message, boolean changed) {

    public enum State {
        HEALTHY, DEGRADED, FAILED, SUSPENDED,
        /** Objects applied; the rollout is being waited for off the sync ({@link SyncResult#health()}). */
        PROGRESSING
    }

    public boolean matches(String namespace, String release) {
        return this.namespace.equals(namespace) && (name.equals(release) || releaseName.equals(release));
    }

    /** Whether only a change in git fixes it: a failure whose reason {@linkplain ProblemReason#stalls() stalls}. */
    public boolean stalled() {
        return state == State.FAILED && reason.stalls();
    }

    /** The same result with another message. */
    public ReleaseResult withMessage(String message) {
        return new ReleaseResult(namespace, name, releaseName, state, workloads, reason, message, changed);
    }
}
