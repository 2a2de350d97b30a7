package dev.conveyor.fluxsync.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** Inventory and prune planning, drift detection, rollout health, trailers, values. */
class PlanningTest {

    static Manifest m(String kind, String ns, String name, String owner) {
        String api = kind.equals("Deployment") ? "apps/v1" : "v1";
        return new Manifest(new ObjectRef(api, kind, ns, name), Map.of(), owner);
    }

    @Test
    void whatLeftGitIsPrunedWorkloadsFirstNamespacesLast() {
        Inventory before = Inventory.of(List.of(m("Namespace", "", "old", "file:ns.yaml"), m("ConfigMap", "old",
                "cfg", "file:a.yaml"), m("Deployment", "old", "web", "file:a.yaml"),
                m("ConfigMap", "keep", "k",
                        "file:k.yaml")));
        Inventory after = Inventory.of(List.of(m("ConfigMap", "keep", "k", "file:k.yaml")));
        assertThat(after.pruneFrom(before)).extracting(ObjectRef::toString).containsExactly("Deployment old/web",
                "ConfigMap old/cfg", "Namespace old");
    }

    @Test
    void anObjectMovedToAnotherFileOrApiVersionIsNotPruned() {
        Inventory before = Inventory.of(List.of(new Manifest(new ObjectRef("autoscaling/v1",
                "HorizontalPodAutoscaler", "a", "h"), Map.of(), "file:old.yaml")));
        Inventory after = Inventory.of(List.of(new Manifest(new ObjectRef("autoscaling/v2",
                "HorizontalPodAutoscaler", "a", "h"), Map.of(), "file:new.yaml")));
        assertThat(after.pruneFrom(before)).isEmpty();
    }

    @Test
    void heldOwnersKeepTheirPreviousObjects() {
        Inventory before = Inventory.of(List.of(m("ConfigMap", "a", "x", "file:broken.yaml"), m("Deployment", "a",
                "r", "release:a/r")));
        Inventory after = Inventory.empty().holding(before, Set.of("file:broken.yaml", "release:a/r"));
        assertThat(after.pruneFrom(before)).isEmpty();
        assertThat(Inventory.fromData(after.toData())).isEqualTo(after);
    }

    @Test
    void liveObjectsAreComparedByGitsFieldsAndTheAppliedHash() {
        Map<String, Object> desired = Map.of("kind", "ConfigMap", "data", Map.of("a", "1"), "spec", Map.of(
                "replicas", 2, "ports", List.of(Map.of("port", 80))));
        String hash = LiveComparison.hash(desired);
        Map<String, Object> live = Map.of("kind", "ConfigMap", "metadata", Map.of("uid", "u", "annotations", Map.of(
                LiveComparison.HASH_ANNOTATION, hash)), "data", Map.of("a", "1"), "spec", Map.of("replicas", 2L,
                        "ports", List.of(Map.of("port", 80, "protocol", "TCP"))),
                "status", Map.of());
        assertThat(LiveComparison.compare(desired, hash, live)).isEqualTo(LiveComparison.State.UNCHANGED);
        assertThat(LiveComparison.compare(desired, hash, null)).isEqualTo(LiveComparison.State.ABSENT);
        assertThat(LiveComparison.compare(desired, "other", live)).isEqualTo(LiveComparison.State.CHANGED_IN_GIT);
        Map<String, Object> drifted = new java.util.HashMap<>(live);
        drifted.put("data", Map.of("a", "2"));
        assertThat(LiveComparison.compare(desired, hash, drifted)).isEqualTo(LiveComparison.State.DRIFTED);
        assertThat(LiveComparison.hash(Map.of("a", 1, "b", 2))).isEqualTo(LiveComparison.hash(new java.util.TreeMap<>(
                Map.of("b", 2, "a", 1))));
    }

    @Test
    void anUnchangedObjectListedWithoutItsTypeIsNotDrift() {
        Map<String, Object> desired = Map.of("apiVersion", "v1", "kind", "ConfigMap", "metadata", Map.of("name", "c"),
                "data", Map.of("a", "1"));
        String hash = LiveComparison.hash(desired);
        // A real API server's list items carry neither apiVersion nor kind (kubernetes/kubernetes#3030).
        Map<String, Object> listed = Map.of("metadata", Map.of("name", "c", "uid", "u", "annotations", Map.of(
                LiveComparison.HASH_ANNOTATION, hash)), "data", Map.of("a", "1"));
        assertThat(LiveComparison.compare(desired, hash, listed)).isEqualTo(LiveComparison.State.UNCHANGED);
        Map<String, Object> otherKind = new java.util.HashMap<>(listed);
        otherKind.put("kind", "Secret");
        assertThat(LiveComparison.compare(desired, hash, otherKind)).isEqualTo(LiveComparison.State.DRIFTED);
    }

    @Test
    void rolloutsAreJudgedLikeKubectlRolloutStatus() {
        Map<String, Object> progressing = Map.of("kind", "Deployment", "metadata", Map.of("generation", 2),
                "spec", Map.of("replicas", 3), "status", Map.of("observedGeneration", 2, "replicas", 3,
                        "updatedReplicas", 2, "availableReplicas", 2));
        assertThat(WorkloadHealth.evaluate(progressing).status()).isEqualTo(WorkloadHealth.Status.PROGRESSING);
        Map<String, Object> stale = Map.of("kind", "Deployment", "metadata", Map.of("generation", 3), "spec", Map
                .of("replicas", 1), "status",
                Map.of("observedGeneration", 2, "updatedReplicas", 1, "replicas", 1,
                        "availableReplicas", 1));
        assertThat(WorkloadHealth.evaluate(stale).message()).contains("generation 3");
        Map<String, Object> ready = Map.of("kind", "Deployment", "spec", Map.of("replicas", 3), "status", Map.of(
                "replicas", 3, "updatedReplicas", 3, "availableReplicas", 3));
        assertThat(WorkloadHealth.evaluate(ready).status()).isEqualTo(WorkloadHealth.Status.READY);
        Map<String, Object> failed = Map.of("kind", "Deployment", "spec", Map.of(), "status", Map.of("conditions",
                List.of(Map.of("type", "Progressing", "status", "False", "reason", "ProgressDeadlineExceeded"))));
        assertThat(WorkloadHealth.evaluate(failed).status()).isEqualTo(WorkloadHealth.Status.FAILED);
        assertThat(WorkloadHealth.evaluate(Map.of("kind", "StatefulSet", "spec", Map.of("replicas", 2), "status",
                Map.of("readyReplicas", 1))).status()).isEqualTo(WorkloadHealth.Status.PROGRESSING);
        assertThat(WorkloadHealth.evaluate(Map.of("kind", "DaemonSet", "status", Map.of("desiredNumberScheduled", 2,
                "updatedNumberScheduled", 2, "numberAvailable", 2))).status()).isEqualTo(
                        WorkloadHealth.Status.READY);
    }

    @Test
    void valuesMergeMapsAndReplaceTheRest() {
        Map<String, Object> merged = Values.merge(Map.of("image", Map.of("repo", "a", "tag", "1"), "list", List.of(
                1, 2)), Map.of("image", Map.of("tag", "2"), "list", List.of(3)));
        assertThat(merged).isEqualTo(Map.of("image", Map.of("repo", "a", "tag", "2"), "list", List.of(3)));
    }
}
