package dev.conveyor.fluxsync.service;

import java.util.Map;

import dev.conveyor.stage.FailureKind;
import dev.conveyor.stage.StageException;

/**
 * Which repositories this replica may reconcile. One replica ({@link #SINGLE}) owns every repository; several
 * replicas share them through Kubernetes Leases ({@code client.RepoLeases}). {@link #owns} is the fence: it is asked
 * right before every apply phase, and answers from what this replica knows locally (no API call), so a replica that
 * lost its lease — paused, cut off from the API server — stops before the lease could have passed to another one.
 */
public interface RepoOwnership {

    /** Owns every repository: a single flux-sync instance (the default). */
    RepoOwnership SINGLE = repo -> true;

    /** Whether this replica holds the repository now (its lease is valid for longer than any other can take it). */
    boolean owns(String repo);

    /** Throws {@link Lost} unless this replica owns the repository. */
    default void check(String repo) {
        if (!owns(repo)) {
            throw new Lost(repo);
        }
    }

    /** The failure reason of a sync stopped because another replica owns the repository now. */
    enum Reason {
        /** This replica does not own the repository (any more): the owner syncs it. Not ready. */
        NOT_OWNER
    }

    /**
     * A sync stopped at a fence: this replica does not own the repository (any more). Nothing more is applied; the
     * owner syncs the repository from git when it takes over, and a promotion is handed to it.
     */
    final class Lost extends StageException {
        private static final long serialVersionUID = 1L;

        public Lost(String repo) {
            super(FailureKind.NOT_READY, Reason.NOT_OWNER, "repository " + repo
                    + " is not owned by this flux-sync replica (any more): its owner syncs it", Map.of(), null);
        }
    }
}
