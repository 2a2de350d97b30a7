package dev.conveyor.fluxsync.client;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * Writes Helm 3's release records (Secrets {@code sh.helm.release.v1.<name>.v<revision>}, type
 * {@code helm.sh/release.v1}, labels {@code owner=helm}, {@code name}, {@code status}, {@code version}) for the releases
 * flux-sync renders and applies, so {@code helm list}, {@code helm history} and {@code helm get manifest} show them as
 * the seed promises. A new revision is recorded only when the rendered manifest or the values change; the previous one
 * becomes {@code superseded}; at most {@link #KEEP} revisions are kept.
 */
public final class HelmReleaseStorage {

    /** Revisions kept per release (Helm's own default history limit is 10). */
    public static final int KEEP = 10;
    /** Annotation with the render key of a revision, so an unchanged render is not recorded again. */
    public static final String RENDER_KEY = "conveyor.dev/render-key";
    /** Annotation naming the release object (owner) a record belongs to. */
    public static final String OWNER = "conveyor.dev/owner";

    /** What is recorded for one revision. */
    public record Record(String releaseName, String namespace, String chartName, String chartVersion,
            String appVersion, Map<String, Object> values, String manifest, String renderKey, String owner,
            String repo) {
    }

    private final KubernetesClient client;

    public HelmReleaseStorage(KubernetesClient client) {
        this.client = client;
    }

    /** Records a revision unless the latest one has the same render key; returns the revision now deployed. */
    public int record(Record r) {
        List<Secret> history = history(r.namespace(), r.releaseName());
        Optional<Secret> latest = history.stream().max(Comparator.comparingInt(HelmReleaseStorage::version));
        if (latest.isPresent() && r.renderKey().equals(annotation(latest.get(), RENDER_KEY))) {
            return version(latest.get());
        }
        int revision = latest.map(s -> version(s) + 1).orElse(1);
        String now = Instant.now().toString();
        String firstDeployed = latest.map(s -> String.valueOf(info(decode(s)).getOrDefault("first_deployed", now)))
                .orElse(now);
        Map<String, Object> release = new LinkedHashMap<>();
        release.put("name", r.releaseName());
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("first_deployed", firstDeployed);
        info.put("last_deployed", now);
        info.put("description", revision == 1 ? "Install complete" : "Upgrade complete");
        info.put("status", "deployed");
        release.put("info", info);
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("name", r.chartName());
        metadata.put("version", r.chartVersion());
        if (r.appVersion() != null) {
            metadata.put("appVersion", r.appVersion());
        }
        metadata.put("apiVersion", "v2");
        release.put("chart", Map.of("metadata", metadata, "templates", List.of(), "values", Map.of(), "files",
                List.of()));
        release.put("config", r.values());
        release.put("manifest", r.manifest());
        release.put("version", revision);
        release.put("namespace", r.namespace());
        Secret secret = new SecretBuilder().withNewMetadata().withName(name(r.releaseName(), revision))
                .withNamespace(r.namespace()).addToLabels("owner", "helm").addToLabels("name", r.releaseName())
                .addToLabels("status", "deployed").addToLabels("version", Integer.toString(revision))
                .addToLabels(KubeCluster.REPO_LABEL, r.repo()).addToAnnotations(RENDER_KEY, r.renderKey())
                .addToAnnotations(OWNER, r.owner()).endMetadata().withType("helm.sh/release.v1")
                .addToData("release", Base64.getEncoder().encodeToString(encode(release).getBytes(
                        StandardCharsets.US_ASCII)))
                .build();
        client.secrets().inNamespace(r.namespace()).resource(secret).create();
        latest.ifPresent(this::supersede);
        history.stream().sorted(Comparator.comparingInt(HelmReleaseStorage::version).reversed()).skip(KEEP - 1)
                .forEach(s -> client.secrets().inNamespace(r.namespace()).withName(s.getMetadata().getName())
                        .delete());
        return revision;
    }

    /**
     * Records a rollback: the revision before the deployed one is recorded again as a new deployed revision
     * ("Rollback to N"), the failed one becomes superseded. Returns the manifest rolled back to; empty if there is no
     * earlier revision.
     */
    public Optional<String> rollback(String namespace, String releaseName, String renderKey) {
        List<Secret> history = history(namespace, releaseName).stream().sorted(Comparator.comparingInt(
                HelmReleaseStorage::version).reversed()).toList();
        if (history.size() < 2) {
            return Optional.empty();
        }
        Secret failed = history.get(0);
        Secret good = history.get(1);
        Map<String, Object> release = decode(good);
        int revision = version(failed) + 1;
        Map<String, Object> info = info(release);
        info.put("status", "deployed");
        info.put("last_deployed", Instant.now().toString());
        info.put("description", "Rollback to " + version(good));
        release.put("version", revision);
        Secret secret = new SecretBuilder().withNewMetadata().withName(name(releaseName, revision))
                .withNamespace(namespace).addToLabels(good.getMetadata().getLabels()).addToLabels("status",
                        "deployed")
                .addToLabels("version", Integer.toString(revision)).addToAnnotations(good.getMetadata()
                        .getAnnotations())
                .addToAnnotations(RENDER_KEY, renderKey).endMetadata().withType("helm.sh/release.v1")
                .addToData("release", Base64.getEncoder().encodeToString(encode(release).getBytes(
                        StandardCharsets.US_ASCII)))
                .build();
        client.secrets().inNamespace(namespace).resource(secret).create();
        supersede(failed);
        return Optional.ofNullable(release.get("manifest")).map(String::valueOf);
    }

    /** Deletes the records of releases of {@code repo} whose owner is not in {@code owners}; returns how many. */
    public int forgetOthers(String repo, java.util.Set<String> owners) {
        int deleted = 0;
        for (Secret s : client.secrets().inAnyNamespace().withLabel("owner", "helm").withLabel(KubeCluster.REPO_LABEL,
                repo).list().getItems()) {
            if (!owners.contains(annotation(s, OWNER))) {
                client.secrets().inNamespace(s.getMetadata().getNamespace()).withName(s.getMetadata().getName())
                        .delete();
                deleted++;
            }
        }
        return deleted;
    }

    private List<Secret> history(String namespace, String releaseName) {
        return client.secrets().inNamespace(namespace).withLabel("owner", "helm").withLabel("name", releaseName)
                .list().getItems();
    }

    private void supersede(Secret previous) {
        Map<String, Object> release = decode(previous);
        info(release).put("status", "superseded");
        previous.getData().put("release", Base64.getEncoder().encodeToString(encode(release).getBytes(
                StandardCharsets.US_ASCII)));
        previous.getMetadata().getLabels().put("status", "superseded");
        client.secrets().inNamespace(previous.getMetadata().getNamespace()).resource(previous).update();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> info(Map<String, Object> release) {
        return (Map<String, Object>) release.computeIfAbsent("info", k -> new LinkedHashMap<>());
    }

    static String name(String release, int revision) {
        return "sh.helm.release.v1." + release + ".v" + revision;
    }

    private static int version(Secret s) {
        try {
            return Integer.parseInt(s.getMetadata().getLabels().getOrDefault("version", "0"));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static String annotation(Secret s, String key) {
        Map<String, String> a = s.getMetadata().getAnnotations();
        return a == null ? null : a.get(key);
    }

    /** Helm's encoding: JSON, gzip, base64 (and the Secret's own base64 on top). */
    private String encode(Map<String, Object> release) {
        try {
            byte[] json = client.getKubernetesSerialization().asJson(release).getBytes(StandardCharsets.UTF_8);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (GZIPOutputStream gzip = new GZIPOutputStream(bytes)) {
                gzip.write(json);
            }
            return Base64.getEncoder().encodeToString(bytes.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> decode(Secret s) {
        try {
            byte[] helm = Base64.getDecoder().decode(Base64.getDecoder().decode(s.getData().get("release")));
            try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(helm))) {
                return client.getKubernetesSerialization().unmarshal(new String(in.readAllBytes(),
                        StandardCharsets.UTF_8), Map.class);
            }
        } catch (IOException | IllegalArgumentException e) {
            return new LinkedHashMap<>();
        }
    }
}
