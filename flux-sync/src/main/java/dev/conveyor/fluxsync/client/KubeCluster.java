package dev.conveyor.fluxsync.client;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import org.jboss.logging.Logger;

import dev.conveyor.fluxsync.domain.ObjectRef;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.dsl.Resource;

/**
 * Applies, reads and deletes objects through fabric8's generic client.
 *
 * <p>
 * <strong>How objects are applied.</strong> Server-side apply with field manager {@link #fieldManager} and forced
 * conflicts, as on any real cluster (Kubernetes 1.22+). An API server that does not implement it answers 415
 * Unsupported Media Type; from then on this instance uses the fallback for good (logged once): create when the object
 * is absent, otherwise replace it with git's version, keeping the live object's labels and annotations that git does
 * not set and its resourceVersion (so a concurrent writer makes the replace fail and the next interval
 * retries). A 404 answer to an apply of an object the caller found absent falls back to create for that object; once
 * such a create succeeded (so the namespace and the kind were there: the server answers 404 because it will not
 * create through apply, which a real API server never does), this instance creates absent objects at once, one
 * request instead of two, and still applies objects that exist. The fallback does not merge fields other managers
 * own inside {@code spec}: use server-side apply on real clusters.
 */
public final class KubeCluster {

    /** Label on every object a repository put into the cluster; its value is the repository's name. */
    public static final String REPO_LABEL = "conveyor.dev/repo";
    /** Label saying who manages the object. */
    public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
    public static final String MANAGED_BY = "conveyor-flux-sync";
    /** Annotation that keeps an object from being pruned ({@code disabled}). */
    public static final String PRUNE_ANNOTATION = "conveyor.dev/prune";

    private static final Logger LOG = Logger.getLogger(KubeCluster.class);

    /** Failure to apply one object; {@link #unknownKind} when the API server does not serve its kind. */
    public static final class ApplyException extends Exception {
        private final boolean unknownKind;

        public ApplyException(String message, boolean unknownKind) {
            super(message);
            this.unknownKind = unknownKind;
        }

        public boolean unknownKind() {
            return unknownKind;
        }
    }

    /** A list of live objects failed for another reason than the kind not being served. */
    public static final class ListException extends RuntimeException {

        public ListException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final KubernetesClient client;
    private final String fieldManager;
    private volatile boolean serverSideApply = true;
    /** False once the server answered an apply of an absent object with 404 and then took its create. */
    private volatile boolean applyCreates = true;

    public KubeCluster(KubernetesClient client, String fieldManager) {
        this.client = client;
        this.fieldManager = fieldManager;
    }

    public KubernetesClient client() {
        return client;
    }

    /** Whether server-side apply is in use (false once the server answered 415). */
    public boolean serverSideApply() {
        return serverSideApply;
    }

    /** Whether absent objects are created through server-side apply (false once the server showed it does not). */
    public boolean applyCreates() {
        return applyCreates;
    }

    private MixedOperation<GenericKubernetesResource, GenericKubernetesResourceList, Resource<GenericKubernetesResource>> ops(
            String apiVersion,
            String kind) {
        return client.genericKubernetesResources(apiVersion, kind);
    }

    /**
     * Objects of one kind labelled with the repository, by {@link ObjectRef#id()}; empty when the API server does not
     * serve the kind (a removed built-in API version, a CRD not installed).
     *
     * @throws ListException when the list failed otherwise (the server's error, a timeout, the connection): what is
     *     live is then not known, which is not the same as nothing being live
     */
    public Optional<Map<String, Map<String, Object>>> listServed(String apiVersion, String kind, String repo) {
        Map<String, Map<String, Object>> out = new HashMap<>();
        try {
            for (GenericKubernetesResource r : ops(apiVersion, kind).inAnyNamespace().withLabel(REPO_LABEL, repo)
                    .list().getItems()) {
                Map<String, Object> map = toMap(r);
                String ns = r.getMetadata().getNamespace();
                out.put(new ObjectRef(apiVersion, kind, ns, r.getMetadata().getName()).id(), map);
            }
        } catch (KubernetesClientException e) {
            if (unknown(e)) {
                return Optional.empty();
            }
            throw new ListException(kind + " (" + apiVersion + ") could not be listed: " + message(e), e);
        } catch (IllegalArgumentException | IllegalStateException e) {
            return Optional.empty();
        }
        return Optional.of(out);
    }

    /** The live object, if it exists. */
    public Optional<Map<String, Object>> get(ObjectRef ref) {
        try {
            var op = ops(ref.apiVersion(), ref.kind());
            GenericKubernetesResource r = ref.clusterScoped()
                    ? op.withName(ref.name()).get()
                    : op.inNamespace(ref.namespace()).withName(ref.name()).get();
            return Optional.ofNullable(r).map(this::toMap);
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** Applies {@code body}; {@code live} is the object as last read (null if absent). */
    public void apply(Map<String, Object> body, Map<String, Object> live) throws ApplyException {
        GenericKubernetesResource desired = fromMap(body);
        try {
            boolean applyAnswered404 = false;
            if (serverSideApply && (live != null || applyCreates)) {
                try {
                    client.resource(desired).fieldManager(fieldManager).forceConflicts().serverSideApply();
                    return;
                } catch (KubernetesClientException e) {
                    if (e.getCode() == 415) {
                        serverSideApply = false;
                        LOG.warn("the API server does not support server-side apply (415): using create/replace");
                    } else if (e.getCode() == 404) {
                        applyAnswered404 = true;
                    } else {
                        throw e;
                    }
                }
            }
            if (live == null) {
                try {
                    client.resource(desired).create();
                    if (applyAnswered404 && applyCreates) {
                        // namespace and kind exist (the create took), yet apply answered 404: this server does not
                        // create through apply, so absent objects go straight to create from now on
                        applyCreates = false;
                        LOG.info("the API server does not create objects through server-side apply (404, then the"
                                + " create succeeded): absent objects are created directly");
                    }
                    return;
                } catch (KubernetesClientException e) {
                    if (e.getCode() != 409) {
                        throw e;
                    }
                    live = get(refOf(body)).orElse(null);
                    if (live == null) {
                        throw e;
                    }
                }
            }
            client.resource(fromMap(replacement(body, live))).update();
        } catch (KubernetesClientException e) {
            if (unknown(e)) {
                throw new ApplyException(unknownKind(body), true);
            }
            throw new ApplyException(message(e), false);
        } catch (IllegalArgumentException | IllegalStateException e) {
            // fabric8 puts the whole object (a Secret's data too) into these messages: never pass them on.
            throw new ApplyException(unknownKind(body), true);
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> replacement(Map<String, Object> body, Map<String, Object> live) {
        Map<String, Object> out = new LinkedHashMap<>(body);
        Map<String, Object> metadata = new LinkedHashMap<>((Map<String, Object>) body.get("metadata"));
        Map<String, Object> liveMeta = (Map<String, Object>) live.getOrDefault("metadata", Map.of());
        for (String key : new String[]{"labels", "annotations"}) {
            Map<String, Object> merged = new LinkedHashMap<>((Map<String, Object>) liveMeta.getOrDefault(key,
                    Map.of()));
            merged.putAll((Map<String, Object>) metadata.getOrDefault(key, Map.of()));
            metadata.put(key, merged);
        }
        metadata.put("resourceVersion", liveMeta.get("resourceVersion"));
        out.put("metadata", metadata);
        return out;
    }

    /** Deletes an object; false if it was already gone. */
    public boolean delete(ObjectRef ref) {
        try {
            var op = ops(ref.apiVersion(), ref.kind());
            var deleted = ref.clusterScoped()
                    ? op.withName(ref.name()).delete()
                    : op.inNamespace(ref.namespace()).withName(ref.name()).delete();
            return !deleted.isEmpty();
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404) {
                return false;
            }
            throw e;
        }
    }

    /** Replaces the {@code status} of a live object through its status subresource. */
    public void writeStatus(ObjectRef ref, Map<String, Object> status) {
        var op = ops(ref.apiVersion(), ref.kind()).inNamespace(ref.namespace()).withName(ref.name());
        GenericKubernetesResource live = op.get();
        if (live == null) {
            return;
        }
        live.setAdditionalProperty("status", status);
        ops(ref.apiVersion(), ref.kind()).inNamespace(ref.namespace()).resource(live).updateStatus();
    }

    /** A data entry of a ConfigMap or Secret (Secret data decoded); empty if the object or key is missing. */
    public Optional<String> readData(String kind, String namespace, String name, String key) {
        if ("Secret".equals(kind)) {
            Secret s = client.secrets().inNamespace(namespace).withName(name).get();
            if (s == null) {
                return Optional.empty();
            }
            if (s.getStringData() != null && s.getStringData().containsKey(key)) {
                return Optional.of(s.getStringData().get(key));
            }
            return Optional.ofNullable(s.getData()).map(d -> d.get(key))
                    .map(v -> new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8));
        }
        ConfigMap cm = client.configMaps().inNamespace(namespace).withName(name).get();
        return Optional.ofNullable(cm).map(ConfigMap::getData).map(d -> d.get(key));
    }

    /** A Secret's data, decoded ({@code stringData} over {@code data}); empty if it does not exist. */
    public Optional<Map<String, String>> secretData(String namespace, String name) {
        Secret s = client.secrets().inNamespace(namespace).withName(name).get();
        if (s == null) {
            return Optional.empty();
        }
        Map<String, String> out = new java.util.HashMap<>();
        if (s.getData() != null) {
            s.getData().forEach((k, v) -> out.put(k, new String(Base64.getDecoder().decode(v),
                    StandardCharsets.UTF_8)));
        }
        if (s.getStringData() != null) {
            out.putAll(s.getStringData());
        }
        return Optional.of(out);
    }

    /** Reads a ConfigMap's data and annotations; empty if it does not exist. */
    public Optional<ConfigMap> configMap(String namespace, String name) {
        return Optional.ofNullable(client.configMaps().inNamespace(namespace).withName(name).get());
    }

    /** Creates or replaces a ConfigMap. */
    public void putConfigMap(ConfigMap cm) {
        client.configMaps().inNamespace(cm.getMetadata().getNamespace()).resource(cm)
                .createOr(NonDeletingOperation::update);
    }

    @SuppressWarnings("unchecked")
    public Map<String, Object> toMap(Object resource) {
        return client.getKubernetesSerialization().convertValue(resource, Map.class);
    }

    public GenericKubernetesResource fromMap(Map<String, Object> body) {
        return client.getKubernetesSerialization().convertValue(body, GenericKubernetesResource.class);
    }

    @SuppressWarnings("unchecked")
    private static ObjectRef refOf(Map<String, Object> body) {
        Map<String, Object> md = (Map<String, Object>) body.get("metadata");
        return new ObjectRef(String.valueOf(body.get("apiVersion")), String.valueOf(body.get("kind")),
                (String) md.get("namespace"), String.valueOf(md.get("name")));
    }

    private static String unknownKind(Map<String, Object> body) {
        return "the API server does not serve " + body.get("kind") + " of " + body.get("apiVersion");
    }

    private static boolean unknown(KubernetesClientException e) {
        String m = String.valueOf(e.getMessage());
        return m.contains("Could not find the metadata") || m.contains("Could not find a registered handler")
                || (e.getCode() == 404 && m.contains("the server could not"
                        + " find the requested resource"));
    }

    private static String message(KubernetesClientException e) {
        String m = e.getStatus() != null && e.getStatus().getMessage() != null
                ? e.getStatus().getMessage()
                : String.valueOf(e.getMessage());
        return (e.getCode() > 0 ? "HTTP " + e.getCode() + ": " : "") + m;
    }
}
