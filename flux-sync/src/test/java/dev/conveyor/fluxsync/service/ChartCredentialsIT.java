package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.marcnuri.helm.Helm;
import com.sun.net.httpserver.HttpServer;

import dev.conveyor.fluxsync.ServedFiles;
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
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Charts behind credentials, against real servers: a Helm HTTP repository ({@code com.sun.net.httpserver}, index and
 * archive) that demands basic auth or a bearer token, and the testkit's docker-registry with basic auth. Flux v2
 * releases take the credentials from the Secret their {@code HelmRepository} names; Helm Operator releases from the
 * configuration per host. A wrong password fails that release alone with {@code CHART_REPO_AUTH_DENIED}, and no
 * credential appears in logs, Kubernetes events, conditions or results.
 */
class ChartCredentialsIT {

    static final String HTTP_USER = "chart-reader";
    static final String HTTP_PASSWORD = "http-pw-Zq81sVx";
    static final String HTTP_TOKEN = "tok-8d0a1f4c9e";
    static final String WRONG_PASSWORD = "wrong-pw-Kd93mQ";
    static final String OCI_USER = "puller";
    static final String OCI_PASSWORD = "oci-pw-Yt55nBc";
    static final String WRONG_OCI_PASSWORD = "wrong-oci-pw-Lp20";

    static KubernetesApiStandIn kube;
    static KubernetesClient client;
    static GitRepos repos;
    static GitAccess access;
    static Path work;
    static Path packaged;
    static HttpServer http;
    static OciRegistry registry;
    static final List<String> REQUESTS = new ArrayList<>();
    static LogCapture logs;

    @BeforeAll
    static void start() throws Exception {
        kube = KubernetesApiStandIn.start();
        client = kube.client();
        repos = new GitRepos();
        access = GitAccess.create(GitCredentials.none());
        work = Files.createTempDirectory("flux-sync-chart-credentials");
        Path chartDir = work.resolve("src/chart1");
        Files.createDirectories(chartDir.resolve("templates"));
        Files.writeString(chartDir.resolve("Chart.yaml"), SeedRepo.CHART);
        Files.writeString(chartDir.resolve("values.yaml"), SeedRepo.CHART_VALUES);
        Files.writeString(chartDir.resolve("templates/deployment.yaml"), SeedRepo.CHART_DEPLOYMENT);
        packaged = Files.createDirectories(work.resolve("packaged"));
        new Helm(chartDir).packageIt().withDestination(packaged).call();
        Files.writeString(packaged.resolve("index.yaml"), """
                apiVersion: v1
                entries:
                  chart1:
                    - name: chart1
                      version: 0.1.0
                      urls: [chart1-0.1.0.tgz]
                """);
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        String basic = "Basic " + Base64.getEncoder().encodeToString((HTTP_USER + ":" + HTTP_PASSWORD).getBytes(
                StandardCharsets.UTF_8));
        http.createContext("/", exchange -> {
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            synchronized (REQUESTS) {
                REQUESTS.add(exchange.getRequestURI().getPath() + " " + (auth == null
                        ? "anonymous"
                        : auth
                                .substring(0, auth.indexOf(' '))));
            }
            if (!basic.equals(auth) && !("Bearer " + HTTP_TOKEN).equals(auth)) {
                exchange.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"charts\"");
                exchange.sendResponseHeaders(401, -1);
                exchange.close();
                return;
            }
            ServedFiles.send(exchange, packaged);
        });
        http.start();
        registry = OciRegistry.startWithBasicAuth(OCI_USER, OCI_PASSWORD);
        // push with helm-java's registry login, then log out: the renders must bring their own credentials
        Helm.registry().login().withHost(registry.host()).withUsername(OCI_USER).withPassword(OCI_PASSWORD)
                .plainHttp().call();
        try {
            Helm.push().withChart(packaged.resolve("chart1-0.1.0.tgz")).withRemote(URI.create("oci://" + registry
                    .host() + "/charts")).plainHttp().call();
        } finally {
            Helm.registry().logout().withHost(registry.host()).plainHttp().call();
        }
        assertThat(registry.tags("charts/chart1")).containsExactly("0.1.0");
        logs = LogCapture.install();
    }

    @AfterAll
    static void stop() {
        logs.close();
        http.stop(0);
        registry.close();
        access.close();
        repos.close();
        kube.close();
    }

    static RepoReconciler reconciler(Map<String, ChartCredentials.Credential> byHost) {
        RepoMirrors mirrors = new RepoMirrors(work.resolve("mirrors"), access);
        KubeCluster cluster = new KubeCluster(kube.newClient(), "conveyor-flux-sync");
        return new RepoReconciler(mirrors, r -> mirrors, cluster, new ChartRenderer(work.resolve("work"), Set.of(
                registry.host()), new ChartCredentials(byHost, cluster::secretData)),
                new RepoReconciler.Settings("charts", "conveyor", Duration.ofMillis(100), Duration.ofMillis(50), work
                        .resolve("work")),
                new SimpleMeterRegistry(), Clock.systemUTC(), new SopsDecryptor(List::of));
    }

    static void secret(String namespace, String name, Map<String, String> data) {
        client.secrets().inNamespace(namespace).resource(new SecretBuilder().withNewMetadata().withName(name)
                .withNamespace(namespace).endMetadata().withStringData(data).build()).create();
    }

    static String helmRepository(String name, String url, String type, String secret) {
        return """
                apiVersion: source.toolkit.fluxcd.io/v1
                kind: HelmRepository
                metadata:
                  name: %s
                spec:
                  %s
                  url: %s
                  secretRef:
                    name: %s
                """.formatted(name, type, url, secret);
    }

    static String flux2Release(String name, String source, String image) {
        return """
                apiVersion: helm.toolkit.fluxcd.io/v2
                kind: HelmRelease
                metadata:
                  name: %s
                spec:
                  interval: 5m
                  chart:
                    spec:
                      chart: chart1
                      version: 0.1.0
                      sourceRef:
                        kind: HelmRepository
                        name: %s
                  values:
                    image: %s
                """.formatted(name, source, image);
    }

    static String operatorRelease(String name, String repository, String image) {
        return """
                apiVersion: helm.fluxcd.io/v1
                kind: HelmRelease
                metadata:
                  name: %s
                spec:
                  releaseName: %s
                  chart:
                    repository: %s
                    name: chart1
                    version: 0.1.0
                  values:
                    image: %s
                """.formatted(name, name, repository, image);
    }

    static Optional<String> image(String namespace, String name) {
        return Optional.ofNullable(client.apps().deployments().inNamespace(namespace).withName(name).get()).map(
                d -> d.getSpec().getTemplate().getSpec().getContainers().get(0).getImage());
    }

    static String conditions(io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext kind, String namespace,
            String name) {
        return String.valueOf(client.genericKubernetesResources(kind).inNamespace(namespace).withName(name).get()
                .getAdditionalProperties().get("status"));
    }

    @Test
    void helmHttpRepositoriesTakeBasicAuthFromTheSecretOrABearerTokenFromTheConfiguration() {
        String url = "http://127.0.0.1:" + http.getAddress().getPort() + "/";
        secret("hc", "chart-creds", Map.of("username", HTTP_USER, "password", HTTP_PASSWORD));
        secret("hc", "wrong-creds", Map.of("username", HTTP_USER, "password", WRONG_PASSWORD));
        BareRepo repo = repos.createBare("http-creds");
        repo.writer().file("releases/helm/hc/sources.yaml", helmRepository("good", url, "", "chart-creds") + "---\n"
                + helmRepository("bad", url, "", "wrong-creds") + "---\n" + helmRepository("nosecret", url, "",
                        "missing-creds"))
                .file("releases/helm/hc/nosecret.yaml", flux2Release("nosecret", "nosecret", "example/no:1"))
                .file("releases/helm/hc/good.yaml", flux2Release("good", "good", "example/good:1"))
                .file("releases/helm/hc/bad.yaml", flux2Release("bad", "bad", "example/bad:1"))
                .file("releases/helm/hc/op.yaml", operatorRelease("op", url, "example/op:1"))
                .file("releases/manifests/hc/cm.yaml", SeedRepo.configMap("plain", "1"))
                .message("charts behind basic auth").commit();
        RepoReconciler reconciler = reconciler(Map.of("127.0.0.1:" + http.getAddress().getPort(),
                new ChartCredentials.Credential(null, null, HTTP_TOKEN, "configuration of 127.0.0.1")));

        SyncResult result = reconciler.sync(new RepoSpec("http-creds", repo.fileUrl(), "main", "", Duration
                .ofMinutes(5), true, false), Set.of());

        // the Secret's basic auth and the configured token both open the repository
        assertThat(image("hc", "good")).contains("example/good:1");
        assertThat(image("hc", "op")).contains("example/op:1");
        synchronized (REQUESTS) {
            assertThat(REQUESTS).contains("/index.yaml Basic", "/chart1-0.1.0.tgz Basic", "/index.yaml Bearer",
                    "/chart1-0.1.0.tgz Bearer");
        }
        // the wrong password fails that release alone
        assertThat(image("hc", "bad")).isEmpty();
        assertThat(result.releases()).filteredOn(r -> r.name().equals("bad")).singleElement().satisfies(r -> {
            assertThat(r.state()).isEqualTo(ReleaseResult.State.FAILED);
            assertThat(r.reason()).isEqualTo(ProblemReason.CHART_REPO_AUTH_DENIED);
            assertThat(r.message()).contains("Secret hc/wrong-creds");
        });
        // a Secret that does not exist is named
        assertThat(result.releases()).filteredOn(r -> r.name().equals("nosecret")).singleElement().satisfies(r -> {
            assertThat(r.reason()).isEqualTo(ProblemReason.CHART_SOURCE_INVALID);
            assertThat(r.message()).contains("Secret hc/missing-creds").contains("does not exist");
        });
        assertThat(result.releases()).filteredOn(r -> !r.name().equals("bad") && !r.name().equals("nosecret"))
                .hasSize(2).allSatisfy(r -> assertThat(r
                        .state()).isNotEqualTo(ReleaseResult.State.FAILED));
        assertThat(client.configMaps().inNamespace("hc").withName("plain").get()).isNotNull();
        assertThat(conditions(ReleaseCrds.FLUX2_RELEASE, "hc", "bad")).contains("reason=ChartRepoAuthDenied");
        assertThat(conditions(ReleaseCrds.FLUX2_RELEASE, "hc", "good")).doesNotContain("ChartRepoAuthDenied");
        assertNoCredentialIn(result, "hc", HTTP_PASSWORD, WRONG_PASSWORD, HTTP_TOKEN);
    }

    @Test
    void ociRegistriesTakeALoginFromTheSecretOrTheConfiguration() {
        String oci = "oci://" + registry.host() + "/charts";
        secret("oc", "registry-creds", Map.of("username", OCI_USER, "password", OCI_PASSWORD));
        BareRepo repo = repos.createBare("oci-creds");
        repo.writer().file("releases/helm/oc/sources.yaml", helmRepository("charts", oci, "type: oci",
                "registry-creds"))
                .file("releases/helm/oc/v2.yaml", flux2Release("v2", "charts", "example/v2:1"))
                .file("releases/helm/oc/op.yaml", operatorRelease("op", oci, "example/op:1"))
                .message("charts from a registry with basic auth").commit();
        RepoSpec spec = new RepoSpec("oci-creds", repo.fileUrl(), "main", "", Duration.ofMinutes(5), true, false);

        // the configured password for the Helm Operator release is wrong: that release alone fails
        SyncResult denied = reconciler(Map.of(registry.host(), new ChartCredentials.Credential(OCI_USER,
                WRONG_OCI_PASSWORD, null, "configuration of " + registry.host()))).sync(spec, Set.of());
        assertThat(image("oc", "v2")).contains("example/v2:1");
        assertThat(image("oc", "op")).isEmpty();
        assertThat(denied.releases()).filteredOn(r -> r.name().equals("op")).singleElement().satisfies(r -> {
            assertThat(r.reason()).isEqualTo(ProblemReason.CHART_REPO_AUTH_DENIED);
            assertThat(r.message()).contains("configuration of " + registry.host());
        });
        assertThat(conditions(ReleaseCrds.HELM_OPERATOR_RELEASE, "oc", "op")).contains("reason=ChartRepoAuthDenied");
        assertNoCredentialIn(denied, "oc", OCI_PASSWORD, WRONG_OCI_PASSWORD);

        // the right one renders it; the registry answers nobody without credentials
        SyncResult allowed = reconciler(Map.of(registry.host(), new ChartCredentials.Credential(OCI_USER,
                OCI_PASSWORD, null, "configuration of " + registry.host()))).sync(spec, Set.of());
        assertThat(image("oc", "op")).contains("example/op:1");
        assertThat(allowed.releases()).extracting(ReleaseResult::reason)
                .doesNotContain(ProblemReason.CHART_REPO_AUTH_DENIED);
        BareRepo anonRepo = repos.createBare("oci-anon");
        anonRepo.writer().file("releases/helm/oa/op.yaml", operatorRelease("op", oci, "example/anon:1")).message(
                "no credentials").commit();
        SyncResult anonymous = reconciler(Map.of()).sync(new RepoSpec("oci-anon", anonRepo.fileUrl(), "main", "",
                Duration.ofMinutes(5), true, false), Set.of());
        assertThat(anonymous.releases()).singleElement().extracting(ReleaseResult::reason).isEqualTo(
                ProblemReason.CHART_REPO_AUTH_DENIED);
        assertThat(image("oa", "op")).isEmpty();
    }

    static void assertNoCredentialIn(SyncResult result, String namespace, String... secrets) {
        var events = client.v1().events().inNamespace("conveyor").list().getItems();
        assertThat(events).extracting(e -> e.getReason()).contains("ChartRepoAuthDenied");
        String everything = logs.text();
        assertThat(everything).contains("ChartRepoAuthDenied");
        everything += events.stream().map(e -> e.getMessage()).toList() + result.toString();
        for (var kind : ReleaseCrds.ALL) {
            everything += client.genericKubernetesResources(kind).inNamespace(namespace).list().getItems().stream()
                    .map(r -> String.valueOf(r.getAdditionalProperties().get("status"))).toList();
        }
        for (String secret : secrets) {
            assertThat(everything).doesNotContain(secret).doesNotContain(Base64.getEncoder().encodeToString(secret
                    .getBytes(StandardCharsets.UTF_8)));
        }
    }
}
