package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.domain.ProblemReason;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.git.RepoWriter;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Releases rendered and applied at once keep the serial sync's guarantees, against the API stand-in and real git: a
 * repository with many releases, one whose chart fails to render, one that depends on it, one that depends on a good
 * release, and a release whose custom resource needs the CRD another release (earlier in the order, not named in
 * dependsOn) renders. Synced with render and apply concurrency 3 and, on a second stand-in, serially: the same
 * results, problems, counts and objects; the bad release fails alone with its error; renders did run at once, never
 * more than the bound.
 */
class ParallelReleasesIT {

    static final int RELEASES = 10;
    static final int BOUND = 3;

    static GitRepos repos;
    static GitAccess access;
    static Path work;
    static BareRepo repo;

    @BeforeAll
    static void start() throws Exception {
        repos = new GitRepos();
        access = GitAccess.create(GitCredentials.none());
        work = Files.createTempDirectory("flux-sync-parallel");
        repo = repos.createBare("parallel");
        RepoWriter w = repo.writer();
        w.file("charts/cfg/Chart.yaml", "apiVersion: v2\nname: cfg\nversion: 0.1.0\n");
        w.file("charts/cfg/templates/cm.yaml", """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: {{ .Release.Name }}
                data:
                  value: {{ .Values.value | quote }}
                """);
        w.file("charts/broken/Chart.yaml", "apiVersion: v2\nname: broken\nversion: 0.1.0\n");
        w.file("charts/broken/templates/cm.yaml", "{{ fail \"this chart is broken on purpose\" }}\n");
        w.file("charts/crd/Chart.yaml", "apiVersion: v2\nname: crd\nversion: 0.1.0\n");
        w.file("charts/crd/templates/crd.yaml", """
                apiVersion: apiextensions.k8s.io/v1
                kind: CustomResourceDefinition
                metadata:
                  name: gizmos.example.com
                spec:
                  group: example.com
                  scope: Namespaced
                  names:
                    kind: Gizmo
                    plural: gizmos
                    singular: gizmo
                    listKind: GizmoList
                  versions:
                    - name: v1
                      served: true
                      storage: true
                      schema:
                        openAPIV3Schema:
                          type: object
                          x-kubernetes-preserve-unknown-fields: true
                """);
        w.file("charts/gizmo/Chart.yaml", "apiVersion: v2\nname: gizmo\nversion: 0.1.0\n");
        w.file("charts/gizmo/templates/gizmo.yaml", """
                apiVersion: example.com/v1
                kind: Gizmo
                metadata:
                  name: {{ .Release.Name }}
                spec:
                  size: 3
                """);
        w.file("namespaces/apps.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n");
        for (int i = 0; i < RELEASES; i++) {
            w.file("releases/helm/apps/r" + i + ".yaml", release("r" + i, "cfg", "value-" + i, ""));
        }
        w.file("releases/helm/apps/bad.yaml", release("bad", "broken", "x", ""));
        w.file("releases/helm/apps/after-bad.yaml", release("after-bad", "cfg", "y", "apps/bad"));
        w.file("releases/helm/apps/after-good.yaml", release("after-good", "cfg", "z", "apps/r3"));
        // ids sort "apps/a-crd" before "apps/b-gizmo": the serial order applies the CRD first
        w.file("releases/helm/apps/a-crd.yaml", release("a-crd", "crd", "c", ""));
        w.file("releases/helm/apps/b-gizmo.yaml", release("b-gizmo", "gizmo", "g", ""));
        w.message("many releases").commit();
    }

    @AfterAll
    static void stop() {
        access.close();
        repos.close();
    }

    static String release(String name, String chart, String value, String dependsOn) {
        return """
                apiVersion: helm.integrations.flux.weave.works/v1alpha2
                kind: FluxHelmRelease
                metadata:
                  name: %1$s
                  namespace: apps
                  labels:
                    chart: %2$s
                  annotations:
                    conveyor.dev/depends-on: "%4$s"
                spec:
                  chartGitPath: %2$s
                  releaseName: %1$s
                  values:
                    value: %3$s
                """.formatted(name, chart, value, dependsOn);
    }

    /** One sync of the repository on a fresh stand-in; what it gave and what the cluster holds after it. */
    record Synced(SyncResult result, Map<String, String> releases, Set<String> objects,
            Map<String, String> conditions) {
    }

    static Synced sync(String name, int render, int apply) {
        try (KubernetesApiStandIn kube = KubernetesApiStandIn.start()) {
            Path dir = work.resolve(name);
            RepoReconciler reconciler = new RepoReconciler(new RepoMirrors(dir.resolve("mirrors"), access),
                    new KubeCluster(kube.newClient(), "conveyor-flux-sync"), new ChartRenderer(dir.resolve("work")),
                    new RepoReconciler.Settings("charts", "conveyor", Duration.ofMillis(200), Duration.ofMillis(50),
                            dir.resolve("work"), render, apply),
                    new SimpleMeterRegistry(), Clock.systemUTC());
            SyncResult result = reconciler.sync(new RepoSpec("parallel", repo.fileUrl(), "main", "", Duration
                    .ofMinutes(5), true, false), Set.of());
            Map<String, String> releases = new TreeMap<>();
            result.releases().forEach(r -> releases.put(r.namespace() + "/" + r.name(), r.state() + " " + r
                    .reason()));
            KubernetesClient client = kube.client();
            Set<String> objects = new TreeSet<>();
            client.configMaps().inNamespace("apps").list().getItems().forEach(c -> objects.add("ConfigMap/" + c
                    .getMetadata().getName()));
            client.genericKubernetesResources("example.com/v1", "Gizmo").inNamespace("apps").list().getItems()
                    .forEach(g -> objects.add("Gizmo/" + g.getMetadata().getName()));
            // the conditions written on the release objects (written at once when not serial), transition times aside
            Map<String, String> conditions = new TreeMap<>();
            client.genericKubernetesResources("helm.integrations.flux.weave.works/v1alpha2", "FluxHelmRelease")
                    .inNamespace("apps").list().getItems().forEach(r -> {
                        Object status = r.getAdditionalProperties().get("status");
                        String text = String.valueOf(status instanceof Map<?, ?> m ? m.get("conditions") : null);
                        conditions.put(r.getMetadata().getName(), text.replaceAll("lastTransitionTime=[^,}]*", ""));
                    });
            return new Synced(result, releases, objects, conditions);
        }
    }

    @Test
    void releasesRenderedAndAppliedAtOnceKeepTheOrderTheErrorsAndTheObjectsOfTheSerialSync() {
        Synced parallel = sync("parallel", BOUND, BOUND);
        Synced serial = sync("serial", 1, 1);

        // the bad release fails alone, with its own error; the one that depends on it is not applied
        assertThat(parallel.releases()).containsEntry("apps/bad", "FAILED " + ProblemReason.RENDER_FAILED)
                .containsEntry("apps/after-bad", "FAILED " + ProblemReason.DEPENDENCY_NOT_READY)
                .containsEntry("apps/after-good", "HEALTHY " + ProblemReason.SUCCEEDED)
                .containsEntry("apps/b-gizmo", "HEALTHY " + ProblemReason.SUCCEEDED);
        for (int i = 0; i < RELEASES; i++) {
            assertThat(parallel.releases()).containsEntry("apps/r" + i, "HEALTHY " + ProblemReason.SUCCEEDED);
        }
        assertThat(parallel.result().problems()).anySatisfy(p -> {
            assertThat(p.reason()).isEqualTo(ProblemReason.RENDER_FAILED);
            assertThat(p.message()).contains("apps/bad").contains("this chart is broken on purpose");
        });
        assertThat(parallel.result().problems()).noneSatisfy(p -> assertThat(p.message()).contains(
                "after-bad").contains("broken on purpose"));
        assertThat(parallel.objects()).contains("ConfigMap/r0", "ConfigMap/r" + (RELEASES - 1),
                "ConfigMap/after-good", "Gizmo/b-gizmo").doesNotContain("ConfigMap/after-bad", "ConfigMap/bad");

        // exactly what the serial sync gives: results in the same order, problems, counts, objects
        assertThat(parallel.result().releases()).isEqualTo(serial.result().releases());
        assertThat(parallel.result().problems()).isEqualTo(serial.result().problems());
        assertThat(parallel.result().summary()).isEqualTo(serial.result().summary());
        assertThat(parallel.objects()).isEqualTo(serial.objects());
        assertThat(parallel.conditions()).hasSize(RELEASES + 5).isEqualTo(serial.conditions());
        assertThat(parallel.conditions().get("bad")).contains("status=False").contains("this chart is broken");

        // renders ran at once, never more than the bound; the serial sync rendered one at a time
        assertThat(parallel.result().timings().rendersAtOnce()).isBetween(2, BOUND);
        assertThat(serial.result().timings().rendersAtOnce()).isEqualTo(1);
    }
}
