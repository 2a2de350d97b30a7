package dev.conveyor.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.conveyor.testkit.kube.ReleaseCrds;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.crud.Attribute;
import io.fabric8.mockwebserver.crud.AttributeSet;
import io.fabric8.mockwebserver.crud.AttributeType;
import io.fabric8.mockwebserver.crud.Key;
import io.fabric8.mockwebserver.crud.Value;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;

/**
 * The local stack's Kubernetes API stand-in: fabric8's mock API server in CRUD mode (as the testkit's
 * {@code KubernetesApiStandIn}) on a port the stack keeps, with the release CRDs, whose objects survive a restart of
 * the stack host: every successful write is followed by a snapshot of the whole store to {@code objects.json}, and a
 * start restores that snapshot before it answers. What a restart still loses: open watches (clients re-establish
 * them) and the resource version counter's continuity (restored objects keep theirs; new writes count on from the
 * highest restored one).
 */
final class StandIn implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CRD_KIND = "\"kind\":\"CustomResourceDefinition\"";

    private final KubernetesMockServer server;
    private final int port;

    private StandIn(KubernetesMockServer server, int port) {
        this.server = server;
        this.port = port;
    }

    /**
     * Starts the stand-in on {@code 127.0.0.1:port}, registers the release CRDs and restores the objects of
     * {@code snapshot} (when it exists); from then on every write is snapshotted there.
     */
    static StandIn start(int port, Path snapshot) {
        List<StoredObject> restored = read(snapshot);
        SnapshottingDispatcher dispatcher = new SnapshottingDispatcher(snapshot);
        KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                dispatcher, false);
        server.init(InetAddress.getLoopbackAddress(), port);
        StandIn standIn = new StandIn(server, port);
        try (KubernetesClient client = standIn.newClient()) {
            // Through the API, so the dispatcher learns the custom resources' plurals and scopes.
            for (CustomResourceDefinition crd : ReleaseCrds.load()) {
                client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
            }
            dispatcher.restore(restored);
        } catch (RuntimeException e) {
            server.destroy();
            throw e;
        }
        return standIn;
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    KubernetesClient newClient() {
        // Config.empty(): a developer's ~/.kube/config must not leak in.
        Config config = new ConfigBuilder(Config.empty()).withMasterUrl(url()).withNamespace("default")
                .withTrustCerts(true).withRequestRetryBackoffLimit(0).build();
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    /** A kubeconfig whose current context is the stand-in (namespace {@code default}), for the services. */
    Path writeKubeconfig(Path file) {
        String kubeconfig = """
                apiVersion: v1
                kind: Config
                clusters:
                  - name: conveyor-local
                    cluster:
                      server: %s
                users:
                  - name: conveyor-local
                    user:
                      token: conveyor-local
                contexts:
                  - name: conveyor-local
                    context:
                      cluster: conveyor-local
                      user: conveyor-local
                      namespace: default
                current-context: conveyor-local
                """.formatted(url());
        try {
            return Files.writeString(file, kubeconfig, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    @Override
    public void close() {
        server.destroy();
    }

    /** One stored object: the store's key (attributes) and the object's JSON. */
    record StoredObject(List<StoredAttribute> key, String json) {
    }

    record StoredAttribute(String key, List<String> values, String type) {
    }

    private static List<StoredObject> read(Path snapshot) {
        if (!Files.isRegularFile(snapshot)) {
            return List.of();
        }
        try {
            return JSON.readValue(snapshot.toFile(), new TypeReference<List<StoredObject>>() {
            });
        } catch (IOException e) {
            // A torn or foreign file must not keep the stack host down: start empty and say so.
            StackHost.log("cannot read the API stand-in snapshot %s (%s); starting empty", snapshot, e.getMessage());
            return List.of();
        }
    }

    /** The CRUD dispatcher, plus a snapshot of the store after every successful write. */
    static final class SnapshottingDispatcher extends KubernetesCrudDispatcher {

        private final Path snapshot;
        private volatile boolean restored;

        SnapshottingDispatcher(Path snapshot) {
            super(List.of());
            this.snapshot = snapshot;
        }

        @Override
        public MockResponse dispatch(RecordedRequest request) {
            if ("GET".equals(request.getMethod())) {
                return super.dispatch(request);
            }
            // Writes one at a time, so a snapshot never interleaves with a write.
            synchronized (this) {
                MockResponse response = super.dispatch(request);
                if (restored && response.code() < 300) {
                    snapshot();
                }
                return response;
            }
        }

        synchronized void restore(List<StoredObject> objects) {
            long highest = 0;
            for (StoredObject o : objects) {
                if (o.json().contains(CRD_KIND)) {
                    // Registered at start through the API; a second copy would be a duplicate.
                    continue;
                }
                List<Attribute> attributes = new ArrayList<>();
                for (StoredAttribute a : o.key()) {
                    attributes.add(new Attribute(new Key(a.key()), a.values().stream().map(Value::new).toList(),
                            AttributeType.valueOf(a.type())));
                }
                map.put(new AttributeSet(attributes), o.json());
                highest = Math.max(highest, resourceVersion(o.json()));
            }
            // New writes continue above every restored resourceVersion, so none goes back in time.
            while (requestResourceVersion() < highest) {
                // requestResourceVersion() increments the counter.
            }
            restored = true;
            snapshot();
        }

        private void snapshot() {
            List<StoredObject> objects = new ArrayList<>();
            for (Map.Entry<AttributeSet, String> e : map.entrySet()) {
                List<StoredAttribute> key = new ArrayList<>();
                for (Attribute a : attributes(e.getKey())) {
                    key.add(new StoredAttribute(a.getKey().toString(), a.getValues().stream().map(Value::toString)
                            .toList(), a.getType().name()));
                }
                objects.add(new StoredObject(key, e.getValue()));
            }
            try {
                Files.createDirectories(snapshot.getParent());
                Path tmp = snapshot.resolveSibling(snapshot.getFileName() + ".tmp");
                JSON.writeValue(tmp.toFile(), objects);
                Files.move(tmp, snapshot, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                StackHost.log("cannot write the API stand-in snapshot %s: %s", snapshot, e.getMessage());
            }
        }

        @SuppressWarnings("unchecked")
        private static java.util.Collection<Attribute> attributes(AttributeSet set) {
            // AttributeSet keeps its attributes in a package-private map and offers no accessor for all of them.
            try {
                java.lang.reflect.Field field = AttributeSet.class.getDeclaredField("attributes");
                field.setAccessible(true);
                return ((Map<Key, Attribute>) field.get(set)).values();
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("this fabric8 mock server version keeps its store differently", e);
            }
        }

        private static long resourceVersion(String json) {
            try {
                return JSON.readTree(json).path("metadata").path("resourceVersion").asLong(0);
            } catch (IOException e) {
                return 0;
            }
        }
    }
}
