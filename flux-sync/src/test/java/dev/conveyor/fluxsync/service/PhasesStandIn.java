package dev.conveyor.fluxsync.service;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.domain.Manifest;
import dev.conveyor.fluxsync.domain.ObjectRef;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;

/** Objects for the phases' tests against the API stand-in. */
final class PhasesStandIn {

    private PhasesStandIn() {
    }

    static KubeCluster cluster(KubernetesApiStandIn kube) {
        return new KubeCluster(kube.newClient(), "conveyor-flux-sync");
    }

    static RepoSpec repo(String name) {
        return new RepoSpec(name, "file:///nowhere/" + name + ".git", "main", "", java.time.Duration.ofMinutes(5),
                true, false);
    }

    static Manifest configMap(String owner, String namespace, String name, String value) {
        Map<String, Object> md = new LinkedHashMap<>();
        md.put("name", name);
        md.put("namespace", namespace);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("apiVersion", "v1");
        body.put("kind", "ConfigMap");
        body.put("metadata", md);
        body.put("data", new LinkedHashMap<>(Map.of("value", value)));
        return new Manifest(new ObjectRef("v1", "ConfigMap", namespace, name), body, owner);
    }

    static Manifest object(String owner, String apiVersion, String kind, String namespace, String name) {
        Map<String, Object> md = new LinkedHashMap<>();
        md.put("name", name);
        md.put("namespace", namespace);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("apiVersion", apiVersion);
        body.put("kind", kind);
        body.put("metadata", md);
        body.put("spec", new LinkedHashMap<>(Map.of("replicas", 1, "selector", Map.of("matchLabels", Map.of("app",
                name)), "template", Map.of("metadata", Map.of("labels", Map.of("app", name)), "spec",
                        Map.of(
                                "containers", List.of(Map.of("name", "app", "image", "nginx:1.27")))))));
        return new Manifest(new ObjectRef(apiVersion, kind, namespace, name), body, owner);
    }
}
