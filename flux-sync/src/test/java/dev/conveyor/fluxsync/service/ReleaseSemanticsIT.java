package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

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
import dev.conveyor.testkit.kube.ReleaseCrds;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Helm's semantics for one release, against the API stand-in: a rendering with a kind the server does not serve
 * applies nothing; hooks and tests are never applied as objects; a release not seen healthy is checked again on every
 * sync until it is; a chart source that cannot be reached is retried, not {@code Stalled}.
 */
class ReleaseSemanticsIT {

    static KubernetesApiStandIn kube;
    static KubernetesClient client;
    static GitRepos repos;
    static GitAccess access;
    static Path work;
    static RepoReconciler reconciler;

    @BeforeAll
    static void start() throws Exception {
        kube = KubernetesApiStandIn.start();
        client = kube.client();
        repos = new GitRepos();
        access = GitAccess.create(GitCredentials.none());
        work = Files.createTempDirectory("flux-sync-semantics");
        reconciler = new RepoReconciler(new RepoMirrors(work.resolve("mirrors"), access), new KubeCluster(kube
                .newClient(), "conveyor-flux-sync"), new ChartRenderer(work.resolve("work")),
                new RepoReconciler.Settings(
                        "charts", "conveyor", Duration.ofMillis(300), Duration.ofMillis(50), work.resolve("work")),
                new SimpleMeterRegistry(), Clock.systemUTC());
    }

    @AfterAll
    static void stop() {
        access.close();
        repos.close();
        kube.close();
    }

    static RepoSpec spec(String name, BareRepo repo) {
        return new RepoSpec(name, repo.fileUrl(), "main", "", Duration.ofMinutes(5), true, false);
    }

    static RepoWriter chart(RepoWriter w, String chart, Map<String, String> templates) {
        w.file("charts/" + chart + "/Chart.yaml", "apiVersion: v2\nname: " + chart + "\nversion: 0.1.0\n");
        templates.forEach((name, text) -> w.file("charts/" + chart + "/templates/" + name, text));
        return w;
    }

    static String release(String name, String namespace, String chart) {
        return """
                apiVersion: helm.integrations.flux.weave.works/v1alpha2
                kind: FluxHelmRelease
                metadata:
                  name: %1$s
                  namespace: %2$s
                  labels:
                    chart: %3$s
                spec:
                  chartGitPath: %3$s
                  releaseName: %1$s
                """.formatted(name, namespace, chart);
    }

    static String deployment(String apiVersion) {
        return """
                apiVersion: %s
                kind: Deployment
                metadata:
                  name: {{ .Release.Name }}
                spec:
                  replicas: 1
                  selector:
                    matchLabels:
                      app: {{ .Release.Name }}
                  template:
                    metadata:
                      labels:
                        app: {{ .Release.Name }}
                    spec:
                      containers:
                        - name: app
                          image: nginx:1.27
                """.formatted(apiVersion);
    }

    static final String CONFIG_MAP = """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: {{ .Release.Name }}-config
            data:
              a: "1"
            """;

    static String status(ResourceDefinitionContext kind, String namespace, String name) {
        GenericKubernetesResource r = client.genericKubernetesResources(kind).inNamespace(namespace).withName(name)
                .get();
        return String.valueOf(r.getAdditionalProperties().get("status"));
    }

    static void rollOut(String namespace, String name) {
        Deployment d = client.apps().deployments().inNamespace(namespace).withName(name).get();
        d.setStatus(new DeploymentStatusBuilder().withReplicas(1).withUpdatedReplicas(1).withReadyReplicas(1)
                .withAvailableReplicas(1).withObservedGeneration(d.getMetadata().getGeneration()).build());
        client.apps().deployments().inNamespace(namespace).resource(d).updateStatus();
    }

    @Test
    void aRenderingWithARemovedBuiltInApiAppliesNothingAndNamesTheReplacement() {
        BareRepo repo = repos.createBare("removed-api");
        chart(repo.writer(), "legacy", Map.of("config.yaml", CONFIG_MAP, "deployment.yaml", deployment(
                "apps/v1beta2"), "role.yaml", """
                        apiVersion: rbac.authorization.k8s.io/v1beta1
                        kind: Role
                        metadata:
                          name: {{ .Release.Name }}
                        rules: []
                        """)).file("releases/helm/ra/legacy.yaml", release("legacy", "ra", "legacy")).message(
                        "a chart of 2019")
                .commit();

        SyncResult r = reconciler.sync(spec("ra", repo), Set.of());

        // nothing of the release was created: not the ConfigMap the server would have taken
        assertThat(client.configMaps().inNamespace("ra").withName("legacy-config").get()).isNull();
        assertThat(r.releases()).singleElement().satisfies(x -> {
            assertThat(x.state()).isEqualTo(ReleaseResult.State.FAILED);
            assertThat(x.reason()).isEqualTo(ProblemReason.REMOVED_API);
            assertThat(x.message()).contains("nothing of the release was applied")
                    .contains("Deployment of apps/v1beta2: a removed built-in API, replaced by apps/v1")
                    .contains("Role of rbac.authorization.k8s.io/v1beta1: a removed built-in API, replaced by "
                            + "rbac.authorization.k8s.io/v1")
                    .doesNotContain("CRD");
        });
        assertThat(r.problems()).singleElement().satisfies(p -> assertThat(p.reason()).isEqualTo(
                ProblemReason.REMOVED_API));
        // only git can fix it: Stalled
        assertThat(status(ReleaseCrds.FLUX_HELM_RELEASE, "ra", "legacy")).contains(
                "type=Ready, status=False, reason=RemovedApi").contains("type=Stalled, status=True, reason=RemovedApi");
        // the inventory holds nothing of it either
        assertThat(client.configMaps().inNamespace("conveyor").withName("flux-sync-inventory-ra").get().getData()
                .get("inventory")).doesNotContain("legacy-config");
    }

    @Test
    void testPodsAndHookJobsOfAChartAreNeverApplied() {
        BareRepo repo = repos.createBare("hooks");
        chart(repo.writer(), "hooked", Map.of("deployment.yaml", deployment("apps/v1"), "test.yaml", """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: {{ .Release.Name }}-test
                  annotations:
                    "helm.sh/hook": test
                spec:
                  restartPolicy: Never
                  containers:
                    - name: t
                      image: busybox
                """, "migrate.yaml", """
                apiVersion: batch/v1
                kind: Job
                metadata:
                  name: {{ .Release.Name }}-migrate
                  annotations:
                    "helm.sh/hook": pre-install,pre-upgrade
                    "helm.sh/hook-weight": "-5"
                spec:
                  template:
                    spec:
                      restartPolicy: Never
                      containers:
                        - name: m
                          image: busybox
                """)).file("releases/helm/hk/web.yaml", release("web", "hk", "hooked")).message("hooks").commit();

        SyncResult r = reconciler.sync(spec("hk", repo), Set.of());

        assertThat(client.apps().deployments().inNamespace("hk").withName("web").get()).isNotNull();
        assertThat(client.pods().inNamespace("hk").withName("web-test").get()).as("test pod").isNull();
        assertThat(client.batch().v1().jobs().inNamespace("hk").withName("web-migrate").get()).as("hook job")
                .isNull();
        assertThat(r.summary().created()).as("release object and deployment").isEqualTo(2);
        // the hook is reported as not run, the test is not (HelmHooksIT covers the report)
        assertThat(r.releases()).singleElement().satisfies(x -> assertThat(x.message()).doesNotContain("web-test"));
    }

    @Test
    void aReleaseThatTimedOutIsCheckedAgainOnEverySyncUntilItIsHealthy() {
        BareRepo repo = repos.createBare("recheck");
        chart(repo.writer(), "app", Map.of("deployment.yaml", deployment("apps/v1"))).file(
                "releases/helm/rc/web.yaml", release("web", "rc", "app")).message("web").commit();

        SyncResult first = reconciler.sync(spec("rc", repo), Set.of());
        assertThat(first.releases()).singleElement().satisfies(x -> assertThat(x.reason()).isEqualTo(
                ProblemReason.ROLLOUT_TIMEOUT));

        // nothing changed in git, the Deployment is still not rolled out: still not ready
        SyncResult unchanged = reconciler.sync(spec("rc", repo), Set.of());
        assertThat(unchanged.summary().created() + unchanged.summary().updated()).isZero();
        assertThat(unchanged.releases()).singleElement().satisfies(x -> {
            assertThat(x.state()).isEqualTo(ReleaseResult.State.DEGRADED);
            assertThat(x.reason()).isEqualTo(ProblemReason.ROLLOUT_TIMEOUT);
            assertThat(x.message()).contains("Deployment").contains("web");
        });
        assertThat(status(ReleaseCrds.FLUX_HELM_RELEASE, "rc", "web")).contains("type=Ready, status=False")
                .contains("type=Stalled, status=False");

        // the controller rolls it out: the next sync sees it
        rollOut("rc", "web");
        SyncResult healthy = reconciler.sync(spec("rc", repo), Set.of());
        assertThat(healthy.releases()).singleElement().satisfies(x -> assertThat(x.state()).isEqualTo(
                ReleaseResult.State.HEALTHY));
        assertThat(status(ReleaseCrds.FLUX_HELM_RELEASE, "rc", "web")).contains(
                "type=Ready, status=True, reason=ReconciliationSucceeded");
    }

    @Test
    void anUnreachableHelmRepositoryIsRetriedNotStalled() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        BareRepo repo = repos.createBare("unreachable");
        repo.writer().file("releases/helm/ur/sealed.yaml", """
                apiVersion: helm.fluxcd.io/v1
                kind: HelmRelease
                metadata:
                  name: sealed
                spec:
                  releaseName: sealed
                  chart:
                    repository: http://127.0.0.1:%d/
                    name: sealed-secrets
                    version: 1.6.1
                """.formatted(closed)).message("a repository that is down").commit();

        SyncResult r = reconciler.sync(spec("ur", repo), Set.of());

        assertThat(r.releases()).singleElement().satisfies(x -> {
            assertThat(x.state()).isEqualTo(ReleaseResult.State.FAILED);
            assertThat(x.reason()).isEqualTo(ProblemReason.CHART_SOURCE_UNREACHABLE);
            assertThat(x.stalled()).isFalse();
            assertThat(x.message()).contains("127.0.0.1:" + closed);
        });
        assertThat(status(ReleaseCrds.HELM_OPERATOR_RELEASE, "ur", "sealed")).contains(
                "type=Ready, status=False, reason=ChartSourceUnreachable").contains("type=Stalled, status=False");
    }
}
