package dev.conveyor.fluxsync.service;

import java.time.Clock;

import org.jboss.logging.Logger;

import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.domain.ObjectRef;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * Phase "write conditions": puts a release's {@link ReleaseConditions} on its object's status, only when they differ
 * from what was written last (transition times aside). A failure to write is logged; the next sync writes again.
 */
final class ConditionWriter {

    private static final Logger LOG = Logger.getLogger(ConditionWriter.class);

    private final KubeCluster cluster;
    private final Clock clock;

    ConditionWriter(KubeCluster cluster, Clock clock) {
        this.cluster = cluster;
        this.clock = clock;
    }

    /** Writes the conditions of {@code result} on {@code ref}; returns whether anything was written. */
    boolean write(RepoState state, String id, ObjectRef ref, ReleaseResult result, String revision) {
        if (result == null) {
            return false;
        }
        ReleaseConditions conditions = ReleaseConditions.of(result, revision);
        if (conditions.equals(state.conditions.get(id))) {
            return false;
        }
        try {
            cluster.writeStatus(ref, conditions.toStatus(clock.instant()));
            state.conditions.put(id, conditions);
            return true;
        } catch (KubernetesClientException e) {
            LOG.warnf("[flux-sync] cannot write the status of %s: %s", ref, e.getMessage());
            return false;
        }
    }
}
