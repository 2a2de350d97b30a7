package dev.conveyor.fluxsync.client;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.jboss.logging.Logger;

import dev.conveyor.events.v1.EventJson;
import dev.conveyor.events.v1.ReleasePromoted;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * Work a replica received for a repository another replica owns, handed to the owner through the Kubernetes API: one
 * ConfigMap per item in the inventory namespace, labelled {@value #LABEL}{@code =<repo>} — {@code
 * flux-sync-handoff-<repo>-<digest>} for a promotion (the {@code ReleasePromoted} and its CloudEvents id), {@code
 * flux-sync-handoff-<repo>-sync} for a webhook's sync request. Creating one is idempotent (the same promotion twice is
 * one ConfigMap). The owner lists them, handles each and deletes it once its events were acknowledged, so an owner that
 * dies in between leaves it to the next owner: nothing is lost.
 */
public final class Handoffs {

    private static final Logger LOG = Logger.getLogger(Handoffs.class);
    /** Label naming the repository a handoff is for. */
    public static final String LABEL = "conveyor.dev/flux-sync-handoff";
    static final String PROMOTED = "promoted";
    static final String CAUSATION = "causationId";

    /**
     * One item handed over.
     *
     * @param name the ConfigMap's name
     * @param repo the repository's name
     * @param promoted the promotion, empty for a sync request (webhook)
     * @param causationId the promotion's CloudEvents id (null for a sync request)
     */
    public record Entry(String name, String repo, Optional<ReleasePromoted> promoted, String causationId) {
    }

    private final KubernetesClient client;
    private final String namespace;

    public Handoffs(KubernetesClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
    }

    /** Hands a promotion to the repository's owner. */
    public void promotion(String repo, ReleasePromoted promoted, String causationId) {
        Map<String, String> data = new LinkedHashMap<>();
        data.put(PROMOTED, EventJson.writeString(promoted));
        if (causationId != null) {
            data.put(CAUSATION, causationId);
        }
        create(repo, "flux-sync-handoff-" + repo + "-" + digest(promoted.run().runId() + "\n" + promoted.run()
                .attempt() + "\n" + promoted.gitopsCommit() + "\n" + promoted.namespace() + "/"
                + promoted
                        .release()),
                data);
    }

    /** Asks the repository's owner to sync it now (a webhook another replica received). */
    public void sync(String repo) {
        create(repo, "flux-sync-handoff-" + repo + "-sync", Map.of());
    }

    private void create(String repo, String name, Map<String, String> data) {
        ConfigMap cm = new ConfigMapBuilder().withNewMetadata().withName(name).withNamespace(namespace).addToLabels(
                LABEL, repo).addToLabels(KubeCluster.MANAGED_BY_LABEL, KubeCluster.MANAGED_BY).endMetadata()
                .withData(data).build();
        try {
            client.configMaps().inNamespace(namespace).resource(cm).create();
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
                throw e;
            }
            // handed over already and not handled yet: the owner handles it once
        }
    }

    /** Everything handed over and not handled yet, by repository, oldest first; unreadable items are dropped. */
    public Map<String, List<Entry>> pending() {
        Map<String, List<Entry>> out = new LinkedHashMap<>();
        List<ConfigMap> items = new ArrayList<>(client.configMaps().inNamespace(namespace).withLabel(LABEL).list()
                .getItems());
        items.sort(Comparator.comparing((ConfigMap c) -> String.valueOf(c.getMetadata().getCreationTimestamp()))
                .thenComparing(c -> c.getMetadata().getName()));
        for (ConfigMap cm : items) {
            String repo = cm.getMetadata().getLabels().get(LABEL);
            Map<String, String> data = cm.getData() == null ? Map.of() : cm.getData();
            Optional<ReleasePromoted> promoted = Optional.empty();
            if (data.containsKey(PROMOTED)) {
                try {
                    promoted = Optional.of(EventJson.read(data.get(PROMOTED).getBytes(StandardCharsets.UTF_8),
                            ReleasePromoted.class));
                } catch (RuntimeException e) {
                    LOG.warnf("[flux-sync] dropping the unreadable handoff %s/%s: %s", namespace, cm.getMetadata()
                            .getName(), e.getClass().getSimpleName());
                    done(new Entry(cm.getMetadata().getName(), repo, Optional.empty(), null));
                    continue;
                }
            }
            out.computeIfAbsent(repo, r -> new ArrayList<>()).add(new Entry(cm.getMetadata().getName(), repo,
                    promoted, data.get(CAUSATION)));
        }
        return out;
    }

    /** Removes a handled item. */
    public void done(Entry entry) {
        client.configMaps().inNamespace(namespace).withName(entry.name()).delete();
    }

    private static String digest(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(
                    StandardCharsets.UTF_8)), 0, 10);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
