package dev.conveyor.fluxsync.service;

/** Reason codes of flux-sync's {@code StageFailed} events (besides the git ones in {@code GitFailure}). */
public enum FluxSyncFailure {
    /** The configured branch does not exist in the GitOps repository. Terminal. */
    BRANCH_NOT_FOUND,
    /** The promoted commit is not on the synced branch. Terminal. */
    COMMIT_NOT_ON_BRANCH,
    /** The Kubernetes API could not be reached or failed. Transient. */
    CLUSTER_UNAVAILABLE
}
