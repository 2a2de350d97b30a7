package dev.conveyor.fluxsync.service;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.jboss.logging.Logger;

import dev.conveyor.fluxsync.client.HelmReleaseStorage;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.domain.DesiredState;
import dev.conveyor.fluxsync.domain.Inventory;
import dev.conveyor.fluxsync.domain.Manifest;
import dev.conveyor.fluxsync.domain.ObjectRef;
import dev.conveyor.stage.git.GitUrls;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * Phase "record the inventory": prunes what left git (owners held this round keep their objects), forgets the Helm
 * records of removed releases, and keeps the inventory ConfigMap {@code flux-sync-inventory-<repo>} (one line per
 * object, with the revision) equal to what the repository owns.
 */
final class InventoryRecorder {

    private static final Logger LOG = Logger.getLogger(InventoryRecorder.class);

    /**
     * What recording did.
     *
     * @param inventory the repository's inventory now
     * @param pruned objects deleted
     */
    record Recorded(Inventory inventory, int pruned) {
    }

    private final KubeCluster cluster;
    private final HelmReleaseStorage helm;
    private final String namespace;

    InventoryRecorder(KubeCluster cluster, HelmReleaseStorage helm, String namespace) {
        this.cluster = cluster;
        this.helm = helm;
        this.namespace = namespace;
    }

    /** The inventory ConfigMap's key listing what the revision holds but flux-sync does not apply. */
    static final String SKIPPED_KEY = "skipped";

    static String configMapName(RepoSpec repo) {
        return "flux-sync-inventory-" + repo.name();
    }

    /** Reads the recorded inventory (and the revision it was recorded at) into {@code state}, once per process. */
    void load(RepoSpec repo, RepoState state) {
        ConfigMap cm = cluster.configMap(namespace, configMapName(repo)).orElse(null);
        if (cm == null || cm.getData() == null) {
            state.inventory = Inventory.empty();
            return;
        }
        Map<String, String> byOwner = new HashMap<>();
        for (String line : cm.getData().getOrDefault("inventory", "").split("\n")) {
            int tab = line.indexOf('\t');
            if (tab > 0) {
                byOwner.merge(line.substring(0, tab), line.substring(tab + 1) + "\n", String::concat);
            }
        }
        state.inventory = Inventory.fromData(byOwner);
        state.skippedSaved = cm.getData().getOrDefault(SKIPPED_KEY, "");
        if (cm.getMetadata().getAnnotations() != null) {
            state.revision = cm.getMetadata().getAnnotations().get("conveyor.dev/revision");
        }
    }

    /**
     * Records the objects the repository owns after this sync ({@code kept}, plus the previous objects of
     * {@code held} owners), pruning the rest when the repository prunes.
     *
     * @param releaseOwners the owners of every release object in git (their Helm records stay)
     */
    Recorded record(RepoSpec repo, RepoState state, List<Manifest> kept, Set<String> held, Set<String> releaseOwners,
            String revision, boolean newRevision, List<DesiredState.Skipped> skipped) {
        Inventory next = Inventory.of(kept).holding(state.inventory, held);
        int pruned = 0;
        if (repo.prune()) {
            for (ObjectRef gone : next.pruneFrom(state.inventory)) {
                if (prune(repo, gone)) {
                    pruned++;
                }
            }
            Set<String> keep = new HashSet<>(held);
            keep.addAll(releaseOwners);
            if (!state.helmChecked || !keep.containsAll(state.helmOwners)) {
                try {
                    helm.forgetOthers(repo.name(), keep);
                    state.helmChecked = true;
                } catch (KubernetesClientException e) {
                    LOG.warnf("[flux-sync] repo %s: cannot remove helm records of removed releases: %s", repo.name(),
                            e.getMessage());
                }
            }
            state.helmOwners.retainAll(keep);
        } else {
            next = new Inventory(merge(next, state.inventory));
        }
        String skippedText = skippedText(skipped);
        if (!next.equals(state.inventory) || newRevision || !skippedText.equals(state.skippedSaved)) {
            save(repo, next, revision, skippedText);
            state.skippedSaved = skippedText;
        }
        state.inventory = next;
        return new Recorded(next, pruned);
    }

    private boolean prune(RepoSpec repo, ObjectRef ref) {
        Map<String, Object> live = cluster.get(ref).orElse(null);
        if (live == null) {
            return false;
        }
        Map<?, ?> md = live.get("metadata") instanceof Map<?, ?> m ? m : Map.of();
        Map<?, ?> labels = md.get("labels") instanceof Map<?, ?> l ? l : Map.of();
        Map<?, ?> annotations = md.get("annotations") instanceof Map<?, ?> a ? a : Map.of();
        if (!repo.name().equals(labels.get(KubeCluster.REPO_LABEL))) {
            LOG.warnf("[flux-sync] repo %s: not pruning %s, it is not labelled as ours", repo.name(), ref);
            return false;
        }
        if ("disabled".equals(annotations.get(KubeCluster.PRUNE_ANNOTATION))) {
            return false;
        }
        boolean deleted = cluster.delete(ref);
        if (deleted) {
            LOG.infof("[flux-sync] repo %s: pruned %s", repo.name(), ref);
        }
        return deleted;
    }

    /** The {@code skipped} key: one line per file or directory not applied, {@code path<TAB>reason}. */
    static String skippedText(List<DesiredState.Skipped> skipped) {
        StringBuilder sb = new StringBuilder();
        skipped.forEach(s -> sb.append(s.path()).append('\t').append(s.reason()).append('\n'));
        return sb.toString();
    }

    private void save(RepoSpec repo, Inventory inventory, String revision, String skipped) {
        StringBuilder sb = new StringBuilder();
        inventory.byOwner().forEach((owner, refs) -> refs.forEach(r -> sb.append(owner).append('\t').append(r
                .toLine()).append('\n')));
        ConfigMap cm = new ConfigMapBuilder().withNewMetadata().withName(configMapName(repo)).withNamespace(namespace)
                .addToLabels(KubeCluster.MANAGED_BY_LABEL, KubeCluster.MANAGED_BY).addToAnnotations(
                        "conveyor.dev/revision", revision)
                .addToAnnotations("conveyor.dev/url", GitUrls.redact(repo.url())).endMetadata().addToData("inventory",
                        sb.toString())
                .addToData(SKIPPED_KEY, skipped)
                .build();
        cluster.putConfigMap(cm);
    }

    private static Map<String, Set<ObjectRef>> merge(Inventory a, Inventory b) {
        Map<String, Set<ObjectRef>> map = new HashMap<>();
        for (Inventory i : List.of(a, b)) {
            i.byOwner().forEach((k, v) -> map.computeIfAbsent(k, x -> new LinkedHashSet<>()).addAll(v));
        }
        return map;
    }
}
