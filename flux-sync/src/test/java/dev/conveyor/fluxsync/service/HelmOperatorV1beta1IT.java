package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpServer;

import dev.conveyor.fluxsync.ServedFiles;
import dev.conveyor.fluxsync.client.ChartCredentials;
import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.client.GitCharts;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.client.SopsDecryptor;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import dev.conveyor.testkit.kube.ReleaseCrds;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Helm Operator 0.x's {@code flux.weave.works/v1beta1 HelmRelease}, synced end to end into the API stand-in (which
 * serves that kind, as a cluster upgraded from helm-operator 0.x still does): charts from another git repository
 * ({@code spec.chart.git} + {@code ref} + {@code path}) and from a Helm repository served here over HTTP
 * ({@code spec.chart.repository} + {@code name} + {@code version}), values from {@code spec.values} and
 * {@code spec.valueFileSecrets}, conditions written on the v1beta1 object as for {@code helm.fluxcd.io/v1}; and the
 * migration to {@code helm.fluxcd.io/v1} done in git, which keeps the Helm release and its objects.
 */
class HelmOperatorV1beta1IT {

    static KubernetesApiStandIn kube;
    static KubernetesClient client;
    static GitRepos repos;
    static GitAccess access;
    static HttpServer http;
    static Path work;
    static RepoReconciler reconciler;
    static BareRepo charts;

    static final String CONFIGMAP_TEMPLATE = """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: {{ .Release.Name }}
            data:
              chart: {{ .Chart.Name }}-{{ .Chart.Version }}
              color: {{ .Values.color | quote }}
              size: {{ .Values.size | quote }}
            """;

    @BeforeAll
    static void start() throws Exception {
        kube = KubernetesApiStandIn.start();
        client = kube.client();
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("conveyor").endMetadata()
                .build()).create();
        repos = new GitRepos();
        access = GitAccess.create(GitCredentials.none());
        work = Files.createTempDirectory("flux-sync-v1beta1");
        ServedFiles.helmRepository(work, work.resolve("served"), "web", List.of("1.1.0", "1.2.0"), v -> Map.of(
                "Chart.yaml", "apiVersion: v2\nname: web\nversion: " + v + "\n", "values.yaml",
                "color: green\nsize: small\n", "templates/cm.yaml", CONFIGMAP_TEMPLATE));
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        http.createContext("/", exchange -> ServedFiles.send(exchange, work.resolve("served")));
        http.start();
        RepoMirrors mirrors = new RepoMirrors(work.resolve("mirrors"), access);
        ChartRenderer renderer = new ChartRenderer(work.resolve("work"), Set.of(), ChartCredentials.none(),
                new GitCharts(url -> mirrors, work.resolve("work")));
        reconciler = new RepoReconciler(mirrors, r -> mirrors, new KubeCluster(kube.newClient(),
                "conveyor-flux-sync"), renderer,
                new RepoReconciler.Settings("charts", "conveyor", Duration
                        .ofSeconds(2), Duration.ofMillis(50), work.resolve("work")),
                new SimpleMeterRegistry(), Clock.systemUTC(), new SopsDecryptor(List::of));

        charts = repos.createBare("v1beta1-charts");
        charts.writer().file("charts/podinfo/Chart.yaml", "apiVersion: v2\nname: podinfo\nversion: 3.2.0\n")
                .file("charts/podinfo/values.yaml", "color: blue\nsize: small\n")
                .file("charts/podinfo/templates/cm.yaml", CONFIGMAP_TEMPLATE)
                .message("podinfo chart").commit();
    }

    @AfterAll
    static void stop() {
        http.stop(0);
        access.close();
        repos.close();
        kube.close();
    }

    static RepoSpec spec(String name, BareRepo repo) {
        return new RepoSpec(name, repo.fileUrl(), "main", "", Duration.ofMinutes(5), true, false);
    }

    static String helmUrl() {
        return "http://127.0.0.1:" + http.getAddress().getPort() + "/";
    }

    static Map<String, String> data(String ns, String name) {
        var cm = client.configMaps().inNamespace(ns).withName(name).get();
        return cm == null ? Map.of() : cm.getData();
    }

    static GenericKubernetesResource release(ResourceDefinitionContext kind, String ns, String name) {
        return client.genericKubernetesResources(kind).inNamespace(ns).withName(name).get();
    }

    /** The release object's status, as written by flux-sync. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> status(ResourceDefinitionContext kind, String ns, String name) {
        GenericKubernetesResource r = release(kind, ns, name);
        assertThat(r).as("%s %s/%s applied", ReleaseCrds.apiVersion(kind), ns, name).isNotNull();
        Object status = r.getAdditionalProperties().get("status");
        assertThat(status).as("status of %s/%s", ns, name).isInstanceOf(Map.class);
        return (Map<String, Object>) status;
    }

    /** The conditions of a status as {@code type status reason}, in order. */
    @SuppressWarnings("unchecked")
    static List<String> conditions(Map<String, Object> status) {
        List<String> out = new ArrayList<>();
        for (Object c : (List<Object>) status.get("conditions")) {
            Map<String, Object> condition = (Map<String, Object>) c;
            out.add(condition.get("type") + " " + condition.get("status") + " " + condition.get("reason"));
        }
        return out;
    }

    static List<String> helmRecords(String namespace, String release) throws IOException {
        return HelmRecords.of(client, namespace, release).stream().map(r -> "v" + r.version() + " " + r.status() + " "
                + r.chartName() + " " + r.chartVersion()).toList();
    }

    @Test
    void v1beta1ReleasesRenderTheirChartsFromGitAndHelmRepositoriesAndCarryTheV1Conditions() throws Exception {
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("legacy").endMetadata()
                .build()).create();
        client.secrets().inNamespace("legacy").resource(new SecretBuilder().withNewMetadata().withName(
                "podinfo-values").endMetadata().withStringData(Map.of("values.yaml", "size: large\n")).build())
                .create();
        BareRepo gitops = repos.createBare("flux-v1beta1");
        gitops.writer()
                .file("namespaces/legacy.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: legacy}\n")
                .file("releases/dev/podinfo.yaml", """
                        apiVersion: flux.weave.works/v1beta1
                        kind: HelmRelease
                        metadata: {name: podinfo, namespace: legacy}
                        spec:
                          releaseName: podinfo-dev
                          chart:
                            git: %s
                            ref: main
                            path: charts/podinfo
                          valueFileSecrets:
                            - name: podinfo-values
                          values: {color: red}
                        """.formatted(charts.fileUrl()))
                .file("releases/prod/web.yaml", """
                        apiVersion: flux.weave.works/v1beta1
                        kind: HelmRelease
                        metadata: {name: web, namespace: legacy}
                        spec:
                          releaseName: web
                          chart: {repository: "%s", name: web, version: 1.2.0}
                          values: {size: medium}
                        """.formatted(helmUrl()))
                // the same chart through helm.fluxcd.io/v1, to compare what is written on each kind
                .file("releases/dev/podinfo-v1.yaml", """
                        apiVersion: helm.fluxcd.io/v1
                        kind: HelmRelease
                        metadata: {name: podinfo-v1, namespace: legacy}
                        spec:
                          releaseName: podinfo-v1
                          chart: {git: "%s", ref: main, path: charts/podinfo}
                          values: {color: red}
                        """.formatted(charts.fileUrl()))
                .message("helm-operator 0.x releases").commit();

        SyncResult result = reconciler.sync(spec("flux-v1beta1", gitops), Set.of());

        assertThat(result.problems()).isEmpty();
        assertThat(result.releases()).extracting(ReleaseResult::name).containsExactlyInAnyOrder("podinfo", "web",
                "podinfo-v1");
        assertThat(result.releases()).allSatisfy(r -> assertThat(r.state()).isEqualTo(
                ReleaseResult.State.HEALTHY));
        // chart.git + ref + path: the other repository's chart, with spec.values over valueFileSecrets over the
        // chart's values.yaml
        assertThat(data("legacy", "podinfo-dev")).containsEntry("chart", "podinfo-3.2.0").containsEntry("color",
                "red").containsEntry("size", "large");
        // chart.repository + name + version: the Helm repository's chart at that exact version
        assertThat(data("legacy", "web")).containsEntry("chart", "web-1.2.0").containsEntry("color", "green")
                .containsEntry("size", "medium");
        assertThat(helmRecords("legacy", "podinfo-dev")).containsExactly("v1 deployed podinfo 3.2.0");
        assertThat(helmRecords("legacy", "web")).containsExactly("v1 deployed web 1.2.0");

        // the v1beta1 objects are in the cluster under their own group, with the conditions of a v1 release
        GenericKubernetesResource podinfo = release(ReleaseCrds.HELM_OPERATOR_V1BETA1_RELEASE, "legacy", "podinfo");
        assertThat(podinfo.getApiVersion()).isEqualTo("flux.weave.works/v1beta1");
        assertThat(release(ReleaseCrds.HELM_OPERATOR_RELEASE, "legacy", "podinfo")).isNull();
        Map<String, Object> v1beta1 = status(ReleaseCrds.HELM_OPERATOR_V1BETA1_RELEASE, "legacy", "podinfo");
        Map<String, Object> v1 = status(ReleaseCrds.HELM_OPERATOR_RELEASE, "legacy", "podinfo-v1");
        assertThat(conditions(v1beta1)).containsExactly("Ready True ReconciliationSucceeded",
                "Reconciling False ReconciliationSucceeded", "Stalled False ReconciliationSucceeded");
        assertThat(conditions(v1beta1)).isEqualTo(conditions(v1));
        assertThat(v1beta1.keySet()).isEqualTo(v1.keySet());
        assertThat(v1beta1).containsEntry("lastAppliedRevision", result.revision()).containsEntry(
                "helmReleaseName", "podinfo-dev");
        assertThat(conditions(status(ReleaseCrds.HELM_OPERATOR_V1BETA1_RELEASE, "legacy", "web"))).containsExactly(
                "Ready True ReconciliationSucceeded", "Reconciling False ReconciliationSucceeded",
                "Stalled False ReconciliationSucceeded");
    }

    @Test
    void migratingAV1beta1ReleaseToHelmFluxcdIoV1InGitKeepsTheHelmReleaseAndItsObjects() throws Exception {
        BareRepo gitops = repos.createBare("flux-v1beta1-migration");
        String release = """
                apiVersion: %s
                kind: HelmRelease
                metadata: {name: podinfo, namespace: migrating}
                spec:
                  releaseName: podinfo-migrating
                  chart: {git: "%s", ref: main, path: charts/podinfo}
                  values: {color: red}
                """;
        gitops.writer()
                .file("namespaces/migrating.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: migrating}\n")
                .file("releases/podinfo.yaml", release.formatted("flux.weave.works/v1beta1", charts.fileUrl()))
                .message("v1beta1").commit();
        SyncResult before = reconciler.sync(spec("flux-v1beta1-migration", gitops), Set.of());
        assertThat(before.problems()).isEmpty();
        assertThat(data("migrating", "podinfo-migrating")).containsEntry("color", "red");
        String uid = client.configMaps().inNamespace("migrating").withName("podinfo-migrating").get().getMetadata()
                .getUid();
        assertThat(conditions(status(ReleaseCrds.HELM_OPERATOR_V1BETA1_RELEASE, "migrating", "podinfo")))
                .startsWith("Ready True ReconciliationSucceeded");

        // the migration: only the apiVersion changes, as helm-operator 1.x's upgrade notes ask
        gitops.writer().file("releases/podinfo.yaml", release.formatted("helm.fluxcd.io/v1", charts.fileUrl()))
                .message("migrate to helm.fluxcd.io/v1").commit();
        SyncResult after = reconciler.sync(spec("flux-v1beta1-migration", gitops), Set.of());

        assertThat(after.problems()).isEmpty();
        assertThat(after.releases()).singleElement().satisfies(r -> assertThat(r.state()).isEqualTo(
                ReleaseResult.State.HEALTHY));
        // the v1 object carries the conditions, the v1beta1 one is pruned with the file that declared it
        assertThat(conditions(status(ReleaseCrds.HELM_OPERATOR_RELEASE, "migrating", "podinfo"))).startsWith(
                "Ready True ReconciliationSucceeded");
        assertThat(release(ReleaseCrds.HELM_OPERATOR_V1BETA1_RELEASE, "migrating", "podinfo")).isNull();
        // the Helm release and its objects are the same ones: never deleted and created again
        assertThat(client.configMaps().inNamespace("migrating").withName("podinfo-migrating").get().getMetadata()
                .getUid()).isEqualTo(uid);
        assertThat(data("migrating", "podinfo-migrating")).containsEntry("color", "red");
        // same chart, same values: not even a new Helm revision
        assertThat(helmRecords("migrating", "podinfo-migrating")).containsExactly("v1 deployed podinfo 3.2.0");
    }
}
