package dev.conveyor.testkit.kube;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Field;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractMap;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import dev.conveyor.testkit.Ports;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesAttributesExtractor;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.crud.Attribute;
import io.fabric8.mockwebserver.crud.AttributeSet;
import io.fabric8.mockwebserver.crud.AttributeType;
import io.fabric8.mockwebserver.crud.CrudDispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;

/**
 * A Kubernetes API server stand-in for tests and the local stack: fabric8's {@link KubernetesMockServer} in CRUD mode,
 * plain HTTP on a free port of 127.0.0.1, with the {@linkplain ReleaseCrds release CRDs} created at start, so
 * {@code FluxHelmRelease} and both {@code HelmRelease} kinds can be created, read, listed, watched and deleted like
 * built-in objects, and the CRDs themselves are listed under {@code apiextensions.k8s.io/v1}.
 *
 * <p>
 * What it does <strong>not</strong> do, which tests of other modules rely on:
 * <ul>
 * <li><strong>No server-side apply.</strong> A {@code PATCH} with {@code application/apply-patch+yaml} to an existing
 * object is answered with 415 Unsupported Media Type and changes nothing; to an object that does not exist yet it is
 * answered with 404 Not Found (apply never creates). Use create, update/replace, JSON patch or JSON merge patch.</li>
 * <li><strong>No strategic merge patch either.</strong> {@code application/strategic-merge-patch+json} is also answered
 * with 415, so client-side {@code kubectl apply} of an existing built-in object fails too. Only
 * {@code application/json-patch+json} and {@code application/merge-patch+json} are supported.</li>
 * <li><strong>No validation.</strong> Schemas, required fields, immutable fields and admission are not checked;
 * anything that is syntactically a Kubernetes object is stored.</li>
 * <li><strong>No controllers.</strong> Nothing reconciles: Deployments never get ready replicas, Pods never run,
 * Namespaces are not finalised, garbage collection by owner reference does not happen, and release custom resources
 * never get a status unless a test writes one (through the {@code /status} subresource).</li>
 * <li>No authentication or authorisation: every request is allowed; the token in {@link #writeKubeconfig(Path)} is only
 * there for tools that insist on having credentials.</li>
 * </ul>
 * Several stand-ins can run in one JVM and several JVMs can run at once: each has its own port and its own store.
 *
 * <p>
 * <strong>Its cost at scale.</strong> fabric8's CRUD dispatcher keeps every object in one map and finds an object by
 * comparing the request with every stored one. Here the objects are also indexed by name ({@link IndexedStore}), so a
 * get, a create's existence check, an update and a patch look at the objects of that name only, as a real API server
 * looks an object up by key; a list still reads every stored object (a real server reads those of the kind), under one
 * lock for writes. {@link #requests()}, {@link #serverNanos()} and {@link #serverCpuNanos()} say how much of a test's
 * or a bench's time was the stand-in's own handling.
 */
public final class KubernetesApiStandIn implements AutoCloseable {

    /** Namespace of {@link #client()} and of the kubeconfig context. */
    public static final String DEFAULT_NAMESPACE = "default";

    private static final int START_ATTEMPTS = 5;

    private final KubernetesMockServer server;
    private final TimedDispatcher dispatcher;
    private final KubernetesClient client;

    private KubernetesApiStandIn(KubernetesMockServer server, TimedDispatcher dispatcher) {
        this.server = server;
        this.dispatcher = dispatcher;
        this.client = newClient(url());
    }

    /** The CRUD dispatcher, counting the requests it answered and the time it took to answer them. */
    private static final class TimedDispatcher extends KubernetesCrudDispatcher {
        private final AtomicLong requests = new AtomicLong();
        private final AtomicLong nanos = new AtomicLong();
        private final AtomicLong cpuNanos = new AtomicLong();
        private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();

        private final IndexedStore store = new IndexedStore();
        private final Map<AttributeSet, String> synchronizedStore = Collections.synchronizedMap(store);

        TimedDispatcher() {
            super(List.of());
            try {
                // The dispatcher's store (a synchronized LinkedHashMap, only read and written through this field):
                // replaced, still empty, by one that keeps the index.
                Field map = CrudDispatcher.class.getDeclaredField("map");
                map.setAccessible(true);
                map.set(this, synchronizedStore);
            } catch (ReflectiveOperationException | RuntimeException e) {
                throw new IllegalStateException("cannot index the stand-in's store (fabric8 mock server "
                        + "changed?)", e);
            }
        }

        /**
         * The first stored object matching {@code query}, as the dispatcher finds it (the first in insertion order),
         * among the objects of the query's name only when the query names one.
         */
        @Override
        public Map.Entry<AttributeSet, String> findResource(AttributeSet query) {
            Attribute name = query.getAttribute(KubernetesAttributesExtractor.NAME);
            if (name == null || name.getType() != AttributeType.WITH) {
                return super.findResource(query);
            }
            synchronized (synchronizedStore) {
                return store.first(name, query);
            }
        }

        @Override
        public MockResponse dispatch(RecordedRequest request) {
            long start = System.nanoTime();
            long cpu = threads.getCurrentThreadCpuTime();
            try {
                return super.dispatch(request);
            } finally {
                cpuNanos.addAndGet(threads.getCurrentThreadCpuTime() - cpu);
                nanos.addAndGet(System.nanoTime() - start);
                requests.incrementAndGet();
            }
        }
    }

    /**
     * The CRUD dispatcher's store with an index by name: a stored object matches a query's {@code name} attribute
     * ({@link AttributeType#WITH}) exactly when it holds an equal attribute ({@link AttributeSet#matches}), so the
     * objects holding it are the only candidates. Kept in step by the three ways the dispatcher changes its store:
     * {@code put}, {@code remove} and {@code clear}; the others, and changes through its views, are refused.
     */
    static final class IndexedStore extends LinkedHashMap<AttributeSet, String> {
        private static final long serialVersionUID = 1L;

        private final Map<Attribute, Set<AttributeSet>> byName = new HashMap<>();

        /** The first object (insertion order, as in the map) of {@code name} that matches {@code query}, or null. */
        Map.Entry<AttributeSet, String> first(Attribute name, AttributeSet query) {
            for (AttributeSet key : byName.getOrDefault(name, Set.of())) {
                if (key.matches(query)) {
                    return new AbstractMap.SimpleImmutableEntry<>(key, get(key));
                }
            }
            return null;
        }

        @Override
        public String put(AttributeSet key, String value) {
            String old = super.put(key, value);
            Attribute name = key.getAttribute(KubernetesAttributesExtractor.NAME);
            if (name != null) {
                byName.computeIfAbsent(name, n -> new LinkedHashSet<>()).add(key);
            }
            return old;
        }

        @Override
        public String remove(Object key) {
            String old = super.remove(key);
            if (key instanceof AttributeSet set) {
                Attribute name = set.getAttribute(KubernetesAttributesExtractor.NAME);
                Set<AttributeSet> keys = name == null ? null : byName.get(name);
                if (keys != null) {
                    keys.remove(set);
                    if (keys.isEmpty()) {
                        byName.remove(name);
                    }
                }
            }
            return old;
        }

        @Override
        public void clear() {
            super.clear();
            byName.clear();
        }

        private static UnsupportedOperationException refused() {
            return new UnsupportedOperationException("the stand-in's store is changed by put, remove and clear only");
        }

        @Override
        public Set<Map.Entry<AttributeSet, String>> entrySet() {
            return Collections.unmodifiableSet(super.entrySet());
        }

        @Override
        public Set<AttributeSet> keySet() {
            return Collections.unmodifiableSet(super.keySet());
        }

        @Override
        public Collection<String> values() {
            return Collections.unmodifiableCollection(super.values());
        }

        @Override
        public void putAll(Map<? extends AttributeSet, ? extends String> m) {
            m.forEach(this::put);
        }

        @Override
        public String putIfAbsent(AttributeSet key, String value) {
            throw refused();
        }

        @Override
        public boolean remove(Object key, Object value) {
            throw refused();
        }

        @Override
        public String replace(AttributeSet key, String value) {
            throw refused();
        }

        @Override
        public boolean replace(AttributeSet key, String oldValue, String newValue) {
            throw refused();
        }

        @Override
        public String compute(AttributeSet key,
                java.util.function.BiFunction<? super AttributeSet, ? super String, ? extends String> f) {
            throw refused();
        }

        @Override
        public String computeIfAbsent(AttributeSet key,
                java.util.function.Function<? super AttributeSet, ? extends String> f) {
            throw refused();
        }

        @Override
        public String computeIfPresent(AttributeSet key,
                java.util.function.BiFunction<? super AttributeSet, ? super String, ? extends String> f) {
            throw refused();
        }

        @Override
        public String merge(AttributeSet key, String value,
                java.util.function.BiFunction<? super String, ? super String, ? extends String> f) {
            throw refused();
        }

        @Override
        public void replaceAll(
                java.util.function.BiFunction<? super AttributeSet, ? super String, ? extends String> f) {
            throw refused();
        }
    }

    /** Requests the stand-in has answered since it started (the CRD creates at start included). */
    public long requests() {
        return dispatcher.requests.get();
    }

    /**
     * Time the stand-in spent answering requests since it started, summed over its threads: from the request read to
     * the response composed (the HTTP transfer aside).
     */
    public long serverNanos() {
        return dispatcher.nanos.get();
    }

    /** CPU time of the stand-in's threads while answering requests since it started, summed over its threads. */
    public long serverCpuNanos() {
        return dispatcher.cpuNanos.get();
    }

    /** Starts a stand-in and registers the release CRDs in it. */
    public static KubernetesApiStandIn start() {
        TimedDispatcher dispatcher = new TimedDispatcher();
        KubernetesMockServer server = listen(dispatcher);
        KubernetesApiStandIn standIn;
        try {
            standIn = new KubernetesApiStandIn(server, dispatcher);
        } catch (RuntimeException e) {
            server.destroy();
            throw e;
        }
        try {
            // Created through the API, not registered behind its back, so the CRD objects are listable like in a
            // real cluster and the CRUD dispatcher learns the plural, scope and status subresource from them.
            for (CustomResourceDefinition crd : ReleaseCrds.load()) {
                standIn.client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
            }
            return standIn;
        } catch (RuntimeException e) {
            standIn.close();
            throw e;
        }
    }

    private static KubernetesMockServer listen(TimedDispatcher dispatcher) {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        RuntimeException failure = null;
        // Another JVM may take the free port before we bind it: try a few.
        for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
            KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                    dispatcher, false);
            try {
                server.init(loopback, Ports.free());
                return server;
            } catch (RuntimeException e) {
                failure = e;
                server.destroy();
            }
        }
        throw new IllegalStateException("cannot bind the Kubernetes API stand-in to a free loopback port", failure);
    }

    private static KubernetesClient newClient(String url) {
        // Config.empty(): a developer's ~/.kube/config or KUBERNETES_* variables must not leak into tests.
        Config config = new ConfigBuilder(Config.empty()).withMasterUrl(url).withNamespace(DEFAULT_NAMESPACE)
                .withTrustCerts(true).withRequestRetryBackoffLimit(0).build();
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    /** {@code http://127.0.0.1:<port>}, the API server URL. */
    public String url() {
        return "http://127.0.0.1:" + server.getPort();
    }

    /** The loopback port the stand-in listens on. */
    public int port() {
        return server.getPort();
    }

    /** A client for the stand-in, namespace {@value #DEFAULT_NAMESPACE}; closed with the stand-in. */
    public KubernetesClient client() {
        return client;
    }

    /** A new client for the stand-in, which the caller closes; for tests that need to close a client themselves. */
    public KubernetesClient newClient() {
        return newClient(url());
    }

    /**
     * Writes a kubeconfig whose current context points at the stand-in (namespace {@value #DEFAULT_NAMESPACE}), so
     * processes of the local stack can use it through {@code KUBECONFIG}. Returns {@code file}.
     */
    public Path writeKubeconfig(Path file) {
        String kubeconfig = """
                apiVersion: v1
                kind: Config
                preferences: {}
                clusters:
                  - name: conveyor-standin
                    cluster:
                      server: %s
                users:
                  - name: conveyor-standin
                    user:
                      token: conveyor-testkit
                contexts:
                  - name: conveyor-standin
                    context:
                      cluster: conveyor-standin
                      user: conveyor-standin
                      namespace: %s
                current-context: conveyor-standin
                """.formatted(url(), DEFAULT_NAMESPACE);
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            return Files.writeString(file, kubeconfig, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write kubeconfig " + file, e);
        }
    }

    /** Closes the client and stops the server; everything stored is gone. */
    @Override
    public void close() {
        try {
            client.close();
        } finally {
            server.destroy();
        }
    }
}
