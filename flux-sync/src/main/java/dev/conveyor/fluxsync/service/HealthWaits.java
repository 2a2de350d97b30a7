package dev.conveyor.fluxsync.service;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.conveyor.events.v1.EventJson;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.domain.ObjectRef;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * The rollout waits of promoted runs that are still running, persisted so that a restarted process resumes them and
 * still sends their runs' health events: one ConfigMap {@code flux-sync-waits-<repo>} per repository in the inventory
 * namespace, one key per run and release (a JSON document: the run's {@code ReleasePromoted}, the release, its
 * workloads, the revision and the deadline). A wait is written when it starts and removed when its event was handed
 * to the publisher. Failing to write is logged, it fails no run (the wait itself goes on).
 */
public final class HealthWaits {

    private static final Logger LOG = Logger.getLogger(HealthWaits.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One run waiting for one release's rollout.
     *
     * @param repo the repository's name
     * @param promoted the run's promotion (its run, repository and release, for the event)
     * @param causationId the CloudEvents id the promotion came with
     * @param pending the rollout wait
     */
    public record Entry(String repo, ReleasePromoted promoted, String causationId, RepoReconciler.PendingWait pending) {

        /** The ConfigMap key: a digest of run and release (run ids and release names are not all valid keys). */
        String key() {
            try {
                byte[] d = MessageDigest.getInstance("SHA-256").digest((promoted.run().runId() + " " + pending
                        .releaseId()).getBytes(StandardCharsets.UTF_8));
                return "wait-" + HexFormat.of().formatHex(d, 0, 12);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private final KubeCluster cluster;
    private final String namespace;
    /** The ConfigMap data of each repository touched, kept equal to the cluster's. */
    private final Map<String, Map<String, String>> byRepo = new HashMap<>();

    /** Only the owner of a repository writes its record (another replica may own it now). */
    private volatile RepoOwnership ownership = RepoOwnership.SINGLE;

    public HealthWaits(KubeCluster cluster, String namespace) {
        this.cluster = cluster;
        this.namespace = namespace;
    }

    public static String configMapName(String repo) {
        return "flux-sync-waits-" + repo;
    }

    void fence(RepoOwnership ownership) {
        this.ownership = ownership;
    }

    /** Forgets the record as this process knew it: it is read again from the cluster. */
    public synchronized void forget(String repo) {
        byRepo.remove(repo);
    }

    /** Records a wait that started. */
    public synchronized void started(Entry entry) {
        Map<String, String> data = data(entry.repo());
        String json = write(entry);
        if (json.equals(data.get(entry.key()))) {
            return;
        }
        data.put(entry.key(), json);
        save(entry.repo(), data);
    }

    /** Removes a wait that ended (its event was handed over). */
    public synchronized void ended(Entry entry) {
        Map<String, String> data = data(entry.repo());
        if (data.remove(entry.key()) != null) {
            save(entry.repo(), data);
        }
    }

    /** The waits recorded for a repository (by a previous process); unreadable records are logged and dropped. */
    public synchronized List<Entry> load(String repo) {
        byRepo.remove(repo);
        Map<String, String> data = data(repo);
        List<Entry> out = new ArrayList<>();
        boolean dropped = false;
        for (Map.Entry<String, String> e : new ArrayList<>(data.entrySet())) {
            try {
                out.add(read(repo, e.getValue()));
            } catch (RuntimeException | JsonProcessingException ex) {
                LOG.warnf("[flux-sync] repo %s: dropping the unreadable rollout wait %s of ConfigMap %s/%s: %s", repo,
                        e.getKey(), namespace, configMapName(repo), ex.getClass().getSimpleName());
                data.remove(e.getKey());
                dropped = true;
            }
        }
        if (dropped) {
            save(repo, data);
        }
        return out;
    }

    private Map<String, String> data(String repo) {
        return byRepo.computeIfAbsent(repo, r -> {
            ConfigMap cm = cluster.configMap(namespace, configMapName(r)).orElse(null);
            return cm == null || cm.getData() == null ? new TreeMap<>() : new TreeMap<>(cm.getData());
        });
    }

    private void save(String repo, Map<String, String> data) {
        if (!ownership.owns(repo)) {
            byRepo.remove(repo);
            LOG.infof("[flux-sync] repo %s: not recording rollout waits, another replica owns the repository", repo);
            return;
        }
        try {
            cluster.putConfigMap(new ConfigMapBuilder().withNewMetadata().withName(configMapName(repo))
                    .withNamespace(namespace).addToLabels(KubeCluster.MANAGED_BY_LABEL, KubeCluster.MANAGED_BY)
                    .endMetadata().withData(new TreeMap<>(data)).build());
        } catch (KubernetesClientException e) {
            LOG.warnf("[flux-sync] repo %s: cannot record the rollout waits in ConfigMap %s/%s: %s", repo, namespace,
                    configMapName(repo), e.getMessage());
        }
    }

    private static String write(Entry entry) {
        RepoReconciler.PendingWait w = entry.pending();
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("promoted", EventJson.writeString(entry.promoted()));
        doc.put("causationId", entry.causationId());
        doc.put("releaseId", w.releaseId());
        doc.put("release", w.release().toLine());
        doc.put("releaseName", w.releaseName());
        doc.put("workloads", w.workloads().stream().map(ObjectRef::toLine).toList());
        doc.put("revision", w.revision());
        doc.put("deadline", w.deadline().toString());
        doc.put("changed", w.changed());
        try {
            return JSON.writeValueAsString(doc);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a rollout wait as JSON", e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Entry read(String repo, String json) throws JsonProcessingException {
        Map<String, Object> doc = JSON.readValue(json, Map.class);
        ReleasePromoted promoted = EventJson.read(String.valueOf(doc.get("promoted")).getBytes(
                StandardCharsets.UTF_8), ReleasePromoted.class);
        List<ObjectRef> workloads = ((List<String>) doc.get("workloads")).stream().map(ObjectRef::fromLine).map(
                Objects::requireNonNull).toList();
        RepoReconciler.PendingWait wait = new RepoReconciler.PendingWait((String) Objects.requireNonNull(doc.get(
                "releaseId")), Objects.requireNonNull(ObjectRef.fromLine((String) doc.get("release"))),
                (String) Objects.requireNonNull(doc.get("releaseName")), workloads, (String) Objects.requireNonNull(
                        doc.get("revision")),
                Instant.parse((String) doc.get("deadline")), Boolean.TRUE.equals(doc.get("changed")));
        return new Entry(repo, promoted, (String) doc.get("causationId"), wait);
    }
}
