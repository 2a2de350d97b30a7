package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.domain.ObjectRef;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;

/**
 * How many requests an apply costs on the wire ({@link ApiCalls}) against the API stand-in, which answers a
 * server-side apply of an absent object with 404 (a real API server creates it): the first absent object costs the
 * apply and a create, every absent object after it the create alone; an object that exists is still applied (and
 * replaced after the 415 the stand-in gives).
 */
class ApplyRequestsIT {

    static Map<String, Object> configMap(String name, String value) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("apiVersion", "v1");
        body.put("kind", "ConfigMap");
        body.put("metadata", new LinkedHashMap<>(Map.of("name", name, "namespace", "apps")));
        body.put("data", Map.of("value", value));
        return body;
    }

    @Test
    void onceApplyDidNotCreateAnAbsentObjectAbsentObjectsAreCreatedInOneRequest() throws Exception {
        ApiCalls calls = new ApiCalls();
        try (KubernetesApiStandIn kube = KubernetesApiStandIn.start()) {
            kube.client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("apps")
                    .endMetadata().build()).create();
            KubeCluster cluster = new KubeCluster(calls.client(kube), "conveyor-flux-sync");

            cluster.apply(configMap("a", "1"), null);
            assertThat(calls.all()).containsExactly("PATCH /api/v1/namespaces/apps/configmaps/a?fieldManager="
                    + "conveyor-flux-sync&force=true", "POST /api/v1/namespaces/apps/configmaps");

            calls.reset();
            cluster.apply(configMap("b", "2"), null);
            cluster.apply(configMap("c", "3"), null);
            assertThat(calls.all()).containsExactly("POST /api/v1/namespaces/apps/configmaps",
                    "POST /api/v1/namespaces/apps/configmaps");
            assertThat(cluster.applyCreates()).isFalse();
            for (String name : List.of("a", "b", "c")) {
                assertThat(kube.client().configMaps().inNamespace("apps").withName(name).get()).isNotNull();
            }

            // an object that exists is still applied first (here answered 415, then replaced)
            calls.reset();
            Map<String, Object> live = cluster.get(new ObjectRef("v1", "ConfigMap", "apps", "b")).orElseThrow();
            calls.reset();
            cluster.apply(configMap("b", "changed"), live);
            assertThat(calls.all()).containsExactly("PATCH /api/v1/namespaces/apps/configmaps/b?fieldManager="
                    + "conveyor-flux-sync&force=true", "PUT /api/v1/namespaces/apps/configmaps/b");
            assertThat(kube.client().configMaps().inNamespace("apps").withName("b").get().getData()).containsEntry(
                    "value", "changed");

            // an object the caller thought absent but that exists: the create's 409, then read and replaced
            calls.reset();
            cluster.apply(configMap("c", "again"), null);
            assertThat(calls.all()).containsExactly("POST /api/v1/namespaces/apps/configmaps",
                    "GET /api/v1/namespaces/apps/configmaps/c", "PUT /api/v1/namespaces/apps/configmaps/c");
            assertThat(kube.client().configMaps().inNamespace("apps").withName("c").get().getData()).containsEntry(
                    "value", "again");
        }
    }
}
