package dev.conveyor.fluxsync.service;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.jboss.logging.Logger;

import dev.conveyor.fluxsync.client.HelmReleaseStorage;
import dev.conveyor.fluxsync.domain.Manifest;
import dev.conveyor.fluxsync.domain.ProblemReason;
import dev.conveyor.fluxsync.domain.ReleaseSpec;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * Phase "remediate": after a failed upgrade of a release that asks for it, puts the previous Helm revision's manifest
 * back, records the rollback in Helm's storage, and remembers the failed render so the next syncs do not apply it again
 * until git changes it.
 */
final class Remediation {

    private static final Logger LOG = Logger.getLogger(Remediation.class);

    /**
     * The outcome of a rollback.
     *
     * @param result the release's result ({@link ProblemReason#ROLLED_BACK} when rolled back)
     * @param applied what putting the previous manifest back applied (its objects are the release's now)
     */
    record Outcome(ReleaseResult result, Applier.Applied applied) {
    }

    private final HelmReleaseStorage helm;
    private final Applier applier;

    Remediation(HelmReleaseStorage helm, Applier applier) {
        this.helm = helm;
        this.applier = applier;
    }

    /**
     * Rolls {@code release} back from the failed render {@code failedKey}; empty when there is no previous revision to
     * go back to (the result stays {@code failed}).
     */
    Optional<Outcome> rollBack(RepoSpec repo, RepoState state, ReleaseSpec release, String failedKey,
            ReleaseResult failed, Set<String> sensitive) {
        String marker = "rollback-" + failedKey;
        String previous;
        try {
            previous = helm.rollback(release.targetNamespace(), release.releaseName(), marker).orElse(null);
        } catch (KubernetesClientException e) {
            LOG.warnf("[flux-sync] repo %s: cannot read the previous revision of %s to roll back: %s", repo.name(),
                    release.id(), e.getMessage());
            return Optional.empty();
        }
        if (previous == null) {
            return Optional.empty();
        }
        List<Manifest> before;
        try {
            before = ReleaseRenderer.parse(release, previous, new ArrayList<>());
        } catch (ReleaseRenderer.Failure e) {
            return Optional.empty();
        }
        Applier.Applied applied = applier.apply(repo, new Applier.LiveObjects(), before, sensitive);
        helm.record(new HelmReleaseStorage.Record(release.releaseName(), release.targetNamespace(), release
                .releaseName(), "rollback", null, Map.of(), previous, marker, release.owner(), repo.name()));
        state.helmRecorded.put(release.owner(), marker);
        state.rolledBack.put(release.owner(), failedKey);
        LOG.warnf("[flux-sync] repo %s: %s failed to roll out (%s); rolled back to the previous revision", repo.name(),
                release.id(), failed.message());
        return Optional.of(new Outcome(new ReleaseResult(failed.namespace(), failed.name(), failed.releaseName(),
                ReleaseResult.State.DEGRADED, failed.workloads(), ProblemReason.ROLLED_BACK, failed.message()
                        + "; rolled back to the previous revision",
                true), applied));
    }
}
