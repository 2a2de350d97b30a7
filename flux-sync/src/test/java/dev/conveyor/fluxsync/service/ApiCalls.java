package dev.conveyor.fluxsync.service;

import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;

/**
 * Every request a client sends to the Kubernetes API stand-in, as {@code METHOD path?query}, in the order sent: what
 * a sync asked of the API server, read from the wire (an interceptor of the client's HTTP layer), so a test can count
 * the writes (anything but {@code GET}) and the reads of one sync.
 */
final class ApiCalls {

    private final List<String> calls = new CopyOnWriteArrayList<>();
    /** Requests for {@code path} go to {@code to}. */
    private record Redirect(String path, URI to) {
    }

    private volatile Redirect redirect;

    /**
     * From now on every request for {@code path} (a list: {@code /api/v1/configmaps}) goes to {@code to} instead of the
     * stand-in, a server that answers the way an overloaded API server does; {@code null} sends them back.
     */
    void redirect(String path, URI to) {
        redirect = path == null ? null : new Redirect(path, to);
    }

    /** A client of {@code kube} (like {@link KubernetesApiStandIn#newClient()}) whose requests this records. */
    KubernetesClient client(KubernetesApiStandIn kube) {
        Config config = new ConfigBuilder(Config.empty()).withMasterUrl(kube.url()).withNamespace(
                KubernetesApiStandIn.DEFAULT_NAMESPACE).withTrustCerts(true).withRequestRetryBackoffLimit(0).build();
        Interceptor recorder = new Interceptor() {
            @Override
            public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
                String query = request.uri().getRawQuery();
                calls.add(request.method() + " " + request.uri().getRawPath() + (query == null ? "" : "?" + query));
                Redirect to = redirect;
                if (to != null && request.uri().getRawPath().equals(to.path())) {
                    builder.uri(to.to().resolve(to.path() + (query == null ? "" : "?" + query)));
                }
            }
        };
        return new KubernetesClientBuilder().withConfig(config).withHttpClientBuilderConsumer(b -> b
                .addOrReplaceInterceptor("api-calls", recorder)).build();
    }

    /** Forgets the calls recorded so far. */
    void reset() {
        calls.clear();
    }

    /** Every call since the last {@link #reset()}. */
    List<String> all() {
        return List.copyOf(calls);
    }

    /** The calls that change something: every method but {@code GET}. */
    List<String> writes() {
        return calls.stream().filter(c -> !c.startsWith("GET ")).toList();
    }
}
