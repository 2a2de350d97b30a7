package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.marcnuri.helm.Helm;

import dev.conveyor.fluxsync.client.ChartCredentials;
import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.client.SopsDecryptor;
import dev.conveyor.fluxsync.domain.ProblemReason;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import dev.conveyor.testkit.kube.ReleaseCrds;
import dev.conveyor.testkit.registry.OciRegistry;
import dev.conveyor.testkit.registry.TokenAuthRegistry;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Charts pulled from real OCI registries by flux-sync itself (not by Helm), so they are rendered like any chart
 * archive: their test Pods are never applied and their other hooks are reported. A plain registry (the testkit's
 * docker-registry) read through a Flux v2 {@code OCIRepository} with a semver range resolved against its tags, and a
 * registry that authenticates with the token flow ({@code TokenAuthRegistry}: a 401 with a {@code Bearer} challenge,
 * a token from the realm asked with the Secret's credentials).
 */
class OciChartPullIT {

    static final String USER = "oci-puller";
    static final String PASSWORD = "oci-tok-pw-Hq73Rz";
    static final String WRONG_PASSWORD = "oci-wrong-pw-Mv18";

    static OciRegistry registry;
    static TokenAuthRegistry tokenRegistry;
    static KubernetesApiStandIn kube;
    static KubernetesClient client;
    static GitRepos repos;
    static GitAccess access;
    static Path work;

    /** A chart {@code hooked} whose ConfigMap holds its version, with a test Pod and a pre-install hook Job. */
    static Path packageChart(String version) throws Exception {
        Path dir = Files.createTempDirectory(work, "chart-");
        Path chart = dir.resolve("hooked");
        Files.createDirectories(chart.resolve("templates/tests"));
        Files.writeString(chart.resolve("Chart.yaml"), "apiVersion: v2\nname: hooked\nversion: " + version + "\n");
        Files.writeString(chart.resolve("templates/config.yaml"), """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: {{ .Release.Name }}-config
                data:
                  chart: {{ .Chart.Version | quote }}
                """);
        Files.writeString(chart.resolve("templates/tests/test-connection.yaml"), """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: {{ .Release.Name }}-test-connection
                  annotations:
                    "helm.sh/hook": test
                spec:
                  restartPolicy: Never
                  containers:
                    - name: t
                      image: busybox
                """);
        Files.writeString(chart.resolve("templates/migrate.yaml"), """
                apiVersion: batch/v1
                kind: Job
                metadata:
                  name: {{ .Release.Name }}-migrate
                  annotations:
                    "helm.sh/hook": pre-install
                spec:
                  template:
                    spec:
                      restartPolicy: Never
                      containers:
                        - name: m
                          image: busybox
                """);
        new Helm(chart).packageIt().withDestination(dir).call();
        return dir.resolve("hooked-" + version + ".tgz");
    }

    @BeforeAll
    static void start() throws Exception {
        work = Files.createTempDirectory("flux-sync-oci-pull");
        registry = OciRegistry.start();
        tokenRegistry = TokenAuthRegistry.start(USER, PASSWORD);
        kube = KubernetesApiStandIn.start();
        client = kube.client();
        repos = new GitRepos();
        access = GitAccess.create(GitCredentials.none());
        for (String version : List.of("1.0.0", "1.1.0", "2.0.0")) {
            Helm.push().withChart(packageChart(version)).withRemote(URI.create("oci://" + registry.host()
                    + "/charts")).plainHttp().call();
        }
        assertThat(registry.tags("charts/hooked")).containsExactlyInAnyOrder("1.0.0", "1.1.0", "2.0.0");
        Helm.registry().login().withHost(tokenRegistry.host()).withUsername(USER).withPassword(PASSWORD).plainHttp()
                .call();
        try {
            Helm.push().withChart(packageChart("1.0.0")).withRemote(URI.create("oci://" + tokenRegistry.host()
                    + "/charts")).plainHttp().call();
        } finally {
            Helm.registry().logout().withHost(tokenRegistry.host()).plainHttp().call();
        }
        assertThat(tokenRegistry.tags("charts/hooked")).containsExactly("1.0.0");
    }

    @AfterAll
    static void stop() {
        access.close();
        repos.close();
        kube.close();
        tokenRegistry.close();
        registry.close();
    }

    static RepoReconciler reconciler(String name, Map<String, ChartCredentials.Credential> byHost) {
        RepoMirrors mirrors = new RepoMirrors(work.resolve("mirrors-" + name), access);
        KubeCluster cluster = new KubeCluster(kube.newClient(), "conveyor-flux-sync");
        return new RepoReconciler(mirrors, r -> mirrors, cluster, new ChartRenderer(work.resolve("work-" + name), Set
                .of(), new ChartCredentials(byHost, cluster::secretData)),
                new RepoReconciler.Settings("charts", "conveyor", Duration.ofMillis(100), Duration.ofMillis(50), work
                        .resolve("work-" + name)),
                new SimpleMeterRegistry(), Clock.systemUTC(), new SopsDecryptor(List::of));
    }

    static RepoSpec spec(String name, BareRepo repo) {
        return new RepoSpec(name, repo.fileUrl(), "main", "", Duration.ofMinutes(5), true, false);
    }

    @Test
    void anOciChartsTestPodIsNeverAppliedAndItsHookIsReportedWithTheRangeResolvedAgainstTheTags() throws Exception {
        BareRepo repo = repos.createBare("oci-hooks");
        repo.writer().file("releases/helm/oh/source.yaml", """
                apiVersion: source.toolkit.fluxcd.io/v1beta2
                kind: OCIRepository
                metadata:
                  name: hooked
                spec:
                  url: oci://%s/charts/hooked
                  insecure: true
                  ref:
                    semver: ">=1.0.0 <2.0.0"
                """.formatted(registry.host()))
                .file("releases/helm/oh/web.yaml", """
                        apiVersion: helm.toolkit.fluxcd.io/v2
                        kind: HelmRelease
                        metadata:
                          name: web
                        spec:
                          interval: 5m
                          chartRef:
                            kind: OCIRepository
                            name: hooked
                        """)
                .message("a chart with hooks from an OCI registry").commit();

        SyncResult result = reconciler("hooks", Map.of()).sync(spec("oci-hooks", repo), Set.of());

        // the highest tag the range matches, pulled and rendered
        assertThat(client.configMaps().inNamespace("oh").withName("web-config").get().getData()).containsEntry(
                "chart", "1.1.0");
        // the test Pod and the hook are not applied; the hook is reported, the test is not
        assertThat(client.pods().inNamespace("oh").withName("web-test-connection").get()).as("test pod").isNull();
        assertThat(client.batch().v1().jobs().inNamespace("oh").withName("web-migrate").get()).as("hook").isNull();
        assertThat(result.releases()).singleElement().satisfies(r -> {
            assertThat(r.state()).as(r.message()).isEqualTo(ReleaseResult.State.HEALTHY);
            assertThat(r.message()).contains("Helm hooks not run: ").contains("Job/oh/web-migrate (pre-install; "
                    + HelmHooksIT.INSTALL_UPGRADE + ")").doesNotContain("web-test-connection");
        });
        assertThat(String.valueOf(client.genericKubernetesResources(ReleaseCrds.FLUX2_RELEASE).inNamespace("oh")
                .withName("web").get().getAdditionalProperties().get("status"))).contains(
                        "Job/oh/web-migrate (pre-install; ");
        // pulled once, cached by digest
        assertThat(work.resolve("work-hooks/remote/oci")).isDirectoryContaining("glob:**.tgz");
    }

    @Test
    void aRegistryWithTheTokenFlowServesTheSecretsCredentialsAndRefusesAWrongPasswordNamingItsOrigin()
            throws Exception {
        client.secrets().inNamespace("ot").resource(new SecretBuilder().withNewMetadata().withName("registry-creds")
                .withNamespace("ot").endMetadata().withStringData(Map.of("username", USER, "password", PASSWORD))
                .build()).create();
        String oci = "oci://" + tokenRegistry.host() + "/charts";
        BareRepo repo = repos.createBare("oci-token");
        repo.writer().file("releases/helm/ot/source.yaml", """
                apiVersion: source.toolkit.fluxcd.io/v1
                kind: HelmRepository
                metadata:
                  name: charts
                spec:
                  type: oci
                  insecure: true
                  url: %s
                  secretRef:
                    name: registry-creds
                """.formatted(oci))
                .file("releases/helm/ot/v2.yaml", """
                        apiVersion: helm.toolkit.fluxcd.io/v2
                        kind: HelmRelease
                        metadata:
                          name: v2
                        spec:
                          chart:
                            spec:
                              chart: hooked
                              version: 1.0.0
                              sourceRef:
                                kind: HelmRepository
                                name: charts
                        """)
                .file("releases/helm/ot/op.yaml", """
                        apiVersion: helm.fluxcd.io/v1
                        kind: HelmRelease
                        metadata:
                          name: op
                        spec:
                          releaseName: op
                          chart:
                            repository: %s
                            name: hooked
                            version: 1.0.0
                        """.formatted(oci))
                .message("charts from a registry with token auth").commit();
        int deniedBefore = tokenRegistry.deniedTokenRequests();

        // the Helm Operator release's configured password is wrong (and the registry is plain HTTP by configuration)
        RepoMirrors mirrors = new RepoMirrors(work.resolve("mirrors-token"), access);
        KubeCluster cluster = new KubeCluster(kube.newClient(), "conveyor-flux-sync");
        RepoReconciler reconciler = new RepoReconciler(mirrors, r -> mirrors, cluster, new ChartRenderer(work.resolve(
                "work-token"), Set.of(tokenRegistry.host()),
                new ChartCredentials(Map.of(tokenRegistry.host(),
                        new ChartCredentials.Credential(USER, WRONG_PASSWORD, null, "configuration of "
                                + tokenRegistry.host())),
                        cluster::secretData)),
                new RepoReconciler.Settings("charts", "conveyor", Duration.ofMillis(100), Duration.ofMillis(50), work
                        .resolve("work-token")),
                new SimpleMeterRegistry(), Clock.systemUTC(), new SopsDecryptor(List::of));
        String logged;
        SyncResult result;
        try (LogCapture log = LogCapture.install()) {
            result = reconciler.sync(spec("oci-token", repo), Set.of());
            logged = log.text();
        }

        // the Secret's credentials got a pull token for the chart's repository; the chart rendered with its hook reported
        assertThat(tokenRegistry.grantedScopes()).contains("repository:charts/hooked:pull");
        assertThat(client.configMaps().inNamespace("ot").withName("v2-config").get().getData()).containsEntry(
                "chart", "1.0.0");
        assertThat(client.pods().inNamespace("ot").withName("v2-test-connection").get()).isNull();
        assertThat(client.batch().v1().jobs().inNamespace("ot").withName("v2-migrate").get()).isNull();
        assertThat(result.releases()).filteredOn(r -> r.name().equals("v2")).singleElement().satisfies(r -> {
            assertThat(r.state()).as(r.message()).isEqualTo(ReleaseResult.State.HEALTHY);
            assertThat(r.message()).contains("Job/ot/v2-migrate (pre-install; ");
        });
        // the wrong password: the token service refused it, that release alone fails, naming where it came from
        assertThat(tokenRegistry.deniedTokenRequests()).isGreaterThan(deniedBefore);
        assertThat(client.configMaps().inNamespace("ot").withName("op-config").get()).isNull();
        assertThat(result.releases()).filteredOn(r -> r.name().equals("op")).singleElement().satisfies(r -> {
            assertThat(r.state()).isEqualTo(ReleaseResult.State.FAILED);
            assertThat(r.reason()).isEqualTo(ProblemReason.CHART_REPO_AUTH_DENIED);
            assertThat(r.message()).contains("token service").contains("configuration of " + tokenRegistry.host());
        });
        // no password (nor its basic-auth encoding) in the result, the release statuses, the events or the log
        String everything = result + logged + client.v1().events().inNamespace("conveyor").list().getItems().stream()
                .map(e -> e.getMessage()).toList();
        for (var kind : ReleaseCrds.ALL) {
            everything += client.genericKubernetesResources(kind).inNamespace("ot").list().getItems().stream().map(
                    r -> String.valueOf(r.getAdditionalProperties().get("status"))).toList();
        }
        assertThat(everything).contains("ChartRepoAuthDenied");
        for (String secret : List.of(PASSWORD, WRONG_PASSWORD)) {
            assertThat(everything).doesNotContain(secret).doesNotContain(Base64.getEncoder().encodeToString((USER
                    + ":" + secret).getBytes(StandardCharsets.UTF_8)));
        }
    }
}
