package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.marcnuri.helm.Helm;
import com.sun.net.httpserver.HttpServer;

import dev.conveyor.fluxsync.ServedFiles;
import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import dev.conveyor.testkit.kube.ReleaseCrds;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Helm hooks and tests through whole syncs, against the API stand-in: a chart's hook and test documents reach
 * flux-sync (helm-java's template alone drops them), test Pods are never applied, every other hook is not run and is
 * reported with its reason in the release's result, its conditions and the log; hooks are neither objects of the
 * release (inventory, Helm's manifest) nor pruned or changed when they exist in the cluster.
 */
class HelmHooksIT {

    static final String INSTALL_UPGRADE = "install/upgrade hooks are not run: flux-sync applies the release on every "
            + "sync and has no install or upgrade step to run them around";

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
        work = Files.createTempDirectory("flux-sync-hooks");
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

    /** The chart's templates: one ordinary object, two test Pods and hooks of every kind of event. */
    static final Map<String, String> HOOKED = Map.of("config.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: {{ .Release.Name }}-config
            data:
              greeting: {{ .Values.greeting | quote }}
            """, "tests/test-connection.yaml", """
            apiVersion: v1
            kind: Pod
            metadata:
              name: {{ .Release.Name }}-test-connection
              annotations:
                "helm.sh/hook": test-success
            spec:
              restartPolicy: Never
              containers:
                - name: t
                  image: busybox
            """, "tests/test.yaml", """
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
                "helm.sh/hook-delete-policy": before-hook-creation
            spec:
              template:
                spec:
                  restartPolicy: Never
                  containers:
                    - name: m
                      image: busybox
            """, "seed.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: {{ .Release.Name }}-seed
              annotations:
                "helm.sh/hook": pre-install
                "helm.sh/hook-weight": "-10"
            data:
              seeded: "yes"
            """, "notify.yaml", """
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: {{ .Release.Name }}-notify
              annotations:
                "helm.sh/hook": post-upgrade
                "helm.sh/hook-delete-policy": hook-succeeded
            spec:
              template:
                spec:
                  restartPolicy: Never
                  containers:
                    - name: n
                      image: busybox
            """, "cleanup.yaml", """
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: {{ .Release.Name }}-cleanup
              annotations:
                "helm.sh/hook": pre-delete
            spec:
              template:
                spec:
                  restartPolicy: Never
                  containers:
                    - name: c
                      image: busybox
            """, "rolled-back.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: {{ .Release.Name }}-rolled-back
              annotations:
                "helm.sh/hook": post-rollback
            """);

    static String release(String greeting) {
        return """
                apiVersion: helm.integrations.flux.weave.works/v1alpha2
                kind: FluxHelmRelease
                metadata:
                  name: web
                  namespace: hk
                  labels:
                    chart: hooked
                spec:
                  chartGitPath: hooked
                  releaseName: web
                  values:
                    greeting: %s
                """.formatted(greeting);
    }

    @Test
    void testPodsAreNeverAppliedAndEveryOtherHookIsReportedNotRunOnInstallAndUpgrade() throws Exception {
        BareRepo repo = repos.createBare("hooked");
        var writer = repo.writer().file("charts/hooked/Chart.yaml", "apiVersion: v2\nname: hooked\nversion: 0.1.0\n");
        HOOKED.forEach((name, text) -> writer.file("charts/hooked/templates/" + name, text));
        writer.file("releases/helm/hk/web.yaml", release("hello")).message("a chart with hooks and tests").commit();
        // the post-upgrade hook's Job as a Helm run of an earlier upgrade left it: flux-sync neither prunes nor changes it
        Job leftover = client.batch().v1().jobs().inNamespace("hk").resource(new JobBuilder().withNewMetadata()
                .withName("web-notify").withAnnotations(Map.of("helm.sh/hook", "post-upgrade")).endMetadata()
                .withNewSpec().withNewTemplate().withNewSpec().withRestartPolicy("Never").addNewContainer().withName(
                        "n")
                .withImage("busybox:1.36").endContainer().endSpec().endTemplate().endSpec().build())
                .create();

        SyncResult installed;
        String logged;
        try (LogCapture log = LogCapture.install()) {
            installed = reconciler.sync(spec("hooked", repo), Set.of());
            logged = log.text();
        }

        // applied: the release's own object only
        assertThat(client.configMaps().inNamespace("hk").withName("web-config").get().getData()).containsEntry(
                "greeting", "hello");
        assertNothingOfTheHooksApplied();
        assertThat(installed.summary().created()).as("the release object and its ConfigMap").isEqualTo(2);
        // reported: each hook that is not a test, with its events and reason; the tests are not listed
        assertThat(installed.releases()).singleElement().satisfies(x -> {
            assertThat(x.state()).isEqualTo(ReleaseResult.State.HEALTHY);
            assertThat(x.message()).contains("Helm hooks not run: ")
                    .contains("Job/hk/web-migrate (pre-install,pre-upgrade; " + INSTALL_UPGRADE + ")")
                    .contains("ConfigMap/hk/web-seed (pre-install; " + INSTALL_UPGRADE + ")")
                    .contains("Job/hk/web-notify (post-upgrade; " + INSTALL_UPGRADE + ")")
                    .contains("Job/hk/web-cleanup (pre-delete; delete hooks are not run: flux-sync prunes a removed"
                            + " release's objects and never uninstalls it with Helm)")
                    .contains("ConfigMap/hk/web-rolled-back (post-rollback; rollback hooks are not run: a flux-sync"
                            + " rollback applies the previous manifest again without Helm's rollback)")
                    .doesNotContain("web-test");
        });
        assertThat(status("hk", "web")).contains(
                "type=Ready, status=True").contains("Job/hk/web-migrate (pre-install,pre-upgrade; ").contains(
                        "Job/hk/web-cleanup (pre-delete; ")
                .doesNotContain("web-test");
        assertThat(logged).contains("Helm hooks not run").contains("Job/hk/web-migrate (pre-install,pre-upgrade; ");
        // not objects of the release: neither in its inventory nor in the manifest Helm's records hold
        String inventory = client.configMaps().inNamespace("conveyor").withName("flux-sync-inventory-hooked").get()
                .getData().get("inventory");
        assertThat(inventory).contains("web-config").doesNotContain("web-migrate").doesNotContain("web-seed")
                .doesNotContain("web-notify").doesNotContain("web-test");
        assertThat(HelmRecords.of(client, "hk", "web")).first().satisfies(h -> assertThat(h.manifest()).contains(
                "web-config").doesNotContain("helm.sh/hook").doesNotContain("web-migrate").doesNotContain(
                        "web-test"));

        // an upgrade (new values): the post-upgrade hook is still not run, and still reported
        repo.writer().file("releases/helm/hk/web.yaml", release("bonjour")).message("upgrade").commit();
        SyncResult upgraded = reconciler.sync(spec("hooked", repo), Set.of());

        assertThat(client.configMaps().inNamespace("hk").withName("web-config").get().getData()).containsEntry(
                "greeting", "bonjour");
        assertNothingOfTheHooksApplied();
        assertThat(upgraded.summary().updated()).as("the release object and its ConfigMap, no hook").isEqualTo(2);
        assertThat(upgraded.releases()).singleElement().satisfies(x -> assertThat(x.message()).contains(
                "Job/hk/web-notify (post-upgrade; " + INSTALL_UPGRADE + ")").doesNotContain("web-test"));
        assertThat(HelmRecords.of(client, "hk", "web")).hasSize(2);
        // the hook object left in the cluster was neither pruned as drift nor changed
        Job after = client.batch().v1().jobs().inNamespace("hk").withName("web-notify").get();
        assertThat(after).isNotNull();
        assertThat(after.getMetadata().getResourceVersion()).isEqualTo(leftover.getMetadata().getResourceVersion());
        assertThat(after.getSpec().getTemplate().getSpec().getContainers().get(0).getImage()).isEqualTo(
                "busybox:1.36");
    }

    /** The release object's status, as the reconciler wrote it. */
    static String status(String namespace, String name) {
        return String.valueOf(client.genericKubernetesResources(ReleaseCrds.FLUX_HELM_RELEASE).inNamespace(namespace)
                .withName(name).get().getAdditionalProperties().get("status"));
    }

    private static void assertNothingOfTheHooksApplied() {
        assertThat(client.pods().inNamespace("hk").withName("web-test").get()).as("test pod").isNull();
        assertThat(client.pods().inNamespace("hk").withName("web-test-connection").get()).as("test pod").isNull();
        assertThat(client.batch().v1().jobs().inNamespace("hk").withName("web-migrate").get()).as("pre-install job")
                .isNull();
        assertThat(client.configMaps().inNamespace("hk").withName("web-seed").get()).as("pre-install config map")
                .isNull();
        assertThat(client.batch().v1().jobs().inNamespace("hk").withName("web-cleanup").get()).as("pre-delete job")
                .isNull();
        assertThat(client.configMaps().inNamespace("hk").withName("web-rolled-back").get()).as("rollback hook")
                .isNull();
    }

    @Test
    void aChartArchiveFromAHelmRepositoryWithAPackagedSubchartHasItsHooksReported() throws Exception {
        // the subchart packaged into the chart's charts/, the chart packaged and served with an index
        Path src = Files.createTempDirectory(work, "src-");
        Path sub = src.resolve("db");
        Files.createDirectories(sub.resolve("templates"));
        Files.writeString(sub.resolve("Chart.yaml"), "apiVersion: v2\nname: db\nversion: 1.0.0\n");
        Files.writeString(sub.resolve("templates/seed.yaml"), """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: {{ .Release.Name }}-db-seed
                  annotations:
                    "helm.sh/hook": pre-upgrade
                """);
        Files.writeString(sub.resolve("templates/test.yaml"), """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: {{ .Release.Name }}-db-test
                  annotations:
                    "helm.sh/hook": test
                spec:
                  containers:
                    - name: t
                      image: busybox
                """);
        Path app = src.resolve("app");
        Files.createDirectories(app.resolve("charts"));
        Files.createDirectories(app.resolve("templates"));
        Files.writeString(app.resolve("Chart.yaml"), "apiVersion: v2\nname: app\nversion: 2.0.0\n");
        Files.writeString(app.resolve("templates/config.yaml"), """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: {{ .Release.Name }}-app
                """);
        new Helm(sub).packageIt().withDestination(app.resolve("charts")).call();
        Path served = Files.createDirectories(src.resolve("served"));
        new Helm(app).packageIt().withDestination(served).call();
        Files.writeString(served.resolve("index.yaml"), """
                apiVersion: v1
                entries:
                  app:
                    - name: app
                      version: 2.0.0
                      urls: [app-2.0.0.tgz]
                """);
        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        http.createContext("/", exchange -> ServedFiles.send(exchange, served));
        http.start();
        try {
            BareRepo repo = repos.createBare("packaged");
            repo.writer().file("releases/prod/app.yaml", """
                    apiVersion: helm.fluxcd.io/v1
                    kind: HelmRelease
                    metadata:
                      name: app
                      namespace: pk
                    spec:
                      releaseName: app
                      chart:
                        repository: http://127.0.0.1:%d/
                        name: app
                        version: 2.0.0
                    """.formatted(http.getAddress().getPort())).message("a chart from a Helm repository").commit();

            SyncResult r = reconciler.sync(new RepoSpec("packaged", repo.fileUrl(), "main", "",
                    Duration.ofMinutes(5), true, false), Set.of());

            assertThat(client.configMaps().inNamespace("pk").withName("app-app").get()).isNotNull();
            assertThat(client.configMaps().inNamespace("pk").withName("app-db-seed").get()).isNull();
            assertThat(client.pods().inNamespace("pk").withName("app-db-test").get()).isNull();
            assertThat(r.releases()).singleElement().satisfies(x -> {
                assertThat(x.state()).isEqualTo(ReleaseResult.State.HEALTHY);
                assertThat(x.message()).contains("ConfigMap/pk/app-db-seed (pre-upgrade; " + INSTALL_UPGRADE + ")")
                        .doesNotContain("app-db-test");
            });
        } finally {
            http.stop(0);
        }
    }
}
