package dev.conveyor.fluxsync.service;

import java.util.List;

/**
 * What became of one release in a sync.
 *
 * @param namespace namespace of the release object
 * @param name name of the release object
 * @param releaseName the Helm release name
 * @param state how it ended
 * @param workloads the workloads waited for ({@code Kind/namespace/name})
 * @param reason a machine code when not healthy
 * @param message for people
 * @param changed whether any of its objects was created or updated
 */
public record ReleaseResult(String namespace, String name, String releaseName, State state, List<String> workloads,
        String reason, String message, boolean changed) {

    public enum State {
        HEALTHY, DEGRADED, FAILED, SUSPENDED,
        /** Objects applied; the rollout is being waited for off the sync ({@link SyncResult#health()}). */
        PROGRESSING
    }

    public boolean matches(String namespace, String release) {
        return this.namespace.equals(namespace) && (name.equals(release) || releaseName.equals(release));
    }
}
