package dev.conveyor.fluxsync.service;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import org.jboss.logging.Logger;

import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.stage.git.GitUrls;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * The revision of each repository up to which the runs a sync delivered were reported: the revision of the last sync
 * whose {@code RepoSynced} events the broker acknowledged. The next sync reports the runs of the {@code Conveyor-Run}
 * trailers of the commits since it, whatever was applied in between, so a process that died between applying a
 * revision and reporting it reports those runs again (with the same event ids) on its next sync.
 *
 * <p>
 * Kept in the ConfigMap {@code flux-sync-reported-<repo>} of the inventory namespace (key {@code revision}, empty when
 * nothing was reported yet), so it survives a restart. Reports are ordered by the number of the sync they come from:
 * the acknowledgement of an older sync never moves the record back.
 */
final class ReportedRevisions {

    private static final Logger LOG = Logger.getLogger(ReportedRevisions.class);
    static final String KEY = "revision";

    /** A repository's record as this process last read or wrote it. */
    private record Reported(String revision, long sequence) {
    }

    private final KubeCluster cluster;
    private final String namespace;
    private final Map<String, Reported> byRepo = new HashMap<>();

    ReportedRevisions(KubeCluster cluster, String namespace) {
        this.cluster = cluster;
        this.namespace = namespace;
    }

    static String configMapName(String repo) {
        return "flux-sync-reported-" + repo;
    }

    /**
     * The revision since which a sync reports runs; empty when none was reported (every commit, up to the walk's
     * bound). A repository without a record yet starts one at {@code applied}, the revision its inventory says was
     * applied (a version of flux-sync that did not keep this record reported up to what it applied), and writes it
     * before anything is applied: a crash in the first sync must not lose the runs it applies.
     *
     * @throws KubernetesClientException when the record cannot be read or started
     */
    synchronized Optional<String> since(RepoSpec repo, String applied) {
        Reported known = byRepo.get(repo.name());
        if (known == null) {
            ConfigMap cm = cluster.configMap(namespace, configMapName(repo.name())).orElse(null);
            if (cm != null && cm.getData() != null && cm.getData().containsKey(KEY)) {
                known = new Reported(emptyToNull(cm.getData().get(KEY)), -1);
            } else {
                known = new Reported(applied, -1);
                write(repo.name(), GitUrls.redact(repo.url()), applied);
            }
            byRepo.put(repo.name(), known);
        }
        return Optional.ofNullable(known.revision());
    }

    /**
     * Records that the runs of sync number {@code sequence}, at {@code revision}, were reported (their events
     * acknowledged). An older sync's report than the last recorded is ignored. A failed write is logged and not
     * remembered: the next sync reports the same runs again, with the same ids.
     */
    synchronized void record(String repo, String url, long sequence, String revision) {
        Reported known = byRepo.get(repo);
        if (known != null && sequence <= known.sequence()) {
            return;
        }
        try {
            if (known == null || !revision.equals(known.revision())) {
                write(repo, url, revision);
            }
            byRepo.put(repo, new Reported(revision, sequence));
        } catch (KubernetesClientException e) {
            LOG.warnf("[flux-sync] repo %s: cannot record the reported revision %s in ConfigMap %s/%s (its runs are "
                    + "reported again by the next sync): %s", repo, revision, namespace, configMapName(repo),
                    e
                            .getMessage());
        }
    }

    /** Forgets the record as this process knew it (another replica may have moved it): it is read again. */
    synchronized void forget(String repo) {
        byRepo.remove(repo);
    }

    private void write(String repo, String url, String revision) {
        cluster.putConfigMap(new ConfigMapBuilder().withNewMetadata().withName(configMapName(repo)).withNamespace(
                namespace).addToLabels(KubeCluster.MANAGED_BY_LABEL, KubeCluster.MANAGED_BY).addToAnnotations(
                        "conveyor.dev/url", url)
                .endMetadata().addToData(KEY, revision == null ? "" : revision).build());
    }

    private static String emptyToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }
}
