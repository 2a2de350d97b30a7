package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

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
import dev.conveyor.fluxsync.domain.ProblemReason;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.stage.net.OutboundPolicy;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Chart sources named in a GitOps repository go through the installation's outbound policy: a Helm repository, its
 * {@code index.yaml} entries and every redirect they answer, an OCI registry, a chart's git repository. The policy here
 * allows plain HTTP to one loopback port (the Helm repository served by the test) and {@code file:} git remotes under
 * the test's repositories; a second loopback listener (the "trap") stands for everything refused, and counts the
 * connections it sees. The GitOps repository itself is configuration ({@code file:} outside the roots here) and is
 * not checked.
 */
class ChartSourcesOutboundIT {

    static KubernetesApiStandIn kube;
    static KubernetesClient client;
    static GitRepos repos;
    static GitAccess access;
    static HttpServer helm;
    static HttpServer trap;
    static final AtomicInteger trapped = new AtomicInteger();
    static Path work;
    static RepoReconciler reconciler;
    static BareRepo chartRepo;

    static final String TEMPLATE = """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: {{ .Release.Name }}
            data:
              chart: {{ .Chart.Name }}-{{ .Chart.Version }}
            """;

    @BeforeAll
    static void start() throws Exception {
        kube = KubernetesApiStandIn.start();
        client = kube.client();
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("apps").endMetadata().build())
                .create();
        repos = new GitRepos();
        work = Files.createTempDirectory("chart-outbound-it");
        trap = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        trap.createContext("/", exchange -> {
            trapped.incrementAndGet();
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        trap.start();
        Path served = work.resolve("served");
        ServedFiles.helmRepository(work, served, "web", List.of("1.0.0"), v -> Map.of("Chart.yaml",
                "apiVersion: v2\nname: web\nversion: " + v + "\n", "templates/cm.yaml", TEMPLATE));
        // an index whose chart URL points at the trap (absolute URLs are allowed in index.yaml)
        Path leaky = Files.createDirectories(work.resolve("served/leaky"));
        Files.writeString(leaky.resolve("index.yaml"), "apiVersion: v1\nentries:\n  web:\n    - name: web\n"
                + "      version: 1.0.0\n      urls: [\"" + trapUrl() + "web-1.0.0.tgz\"]\n");
        helm = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        helm.createContext("/", exchange -> ServedFiles.send(exchange, served));
        // an allowed repository that redirects its index to a refused address
        helm.createContext("/moved/", exchange -> {
            exchange.getResponseHeaders().add("Location", trapUrl() + "index.yaml");
            exchange.sendResponseHeaders(302, -1);
            exchange.close();
        });
        helm.start();

        chartRepo = repos.createBare("charts");
        chartRepo.writer().file("web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 2.0.0\n").file(
                "web/templates/cm.yaml", TEMPLATE).message("web chart").commit();

        access = GitAccess.create(GitCredentials.none());
        // charts.example.com is an allowed host pattern whose DNS answer is a private address
        OutboundPolicy outbound = OutboundPolicy.builder().schemes(List.of("http", "https", "ssh", "file")).hosts(List
                .of("127.0.0.1:" + helm.getAddress().getPort(), "*.example.com")).allowedNetworks(List.of(
                        "127.0.0.1/32"))
                .fileRoots(List.of(chartRepo.path())).resolver(host -> host.equals(
                        "charts.example.com")
                                ? new InetAddress[]{InetAddress.getByName("10.0.0.7")}
                                : InetAddress.getAllByName(host))
                .build();
        RepoMirrors gitops = new RepoMirrors(work.resolve("mirrors"), access);
        RepoMirrors charts = new RepoMirrors(work.resolve("chart-mirrors"), access.restrictedTo(outbound,
                GitCharts.FIELD));
        ChartRenderer renderer = new ChartRenderer(work.resolve("work"), Set.of(), ChartCredentials.none(),
                new GitCharts(url -> charts, work.resolve("work"), outbound), outbound);
        reconciler = new RepoReconciler(gitops, r -> gitops, new KubeCluster(kube.newClient(), "conveyor-flux-sync"),
                renderer, new RepoReconciler.Settings("charts", "conveyor", Duration.ofSeconds(2), Duration.ofMillis(
                        50), work.resolve("work")),
                new SimpleMeterRegistry(), Clock.systemUTC(), new SopsDecryptor(List::of));
    }

    @AfterAll
    static void stop() {
        helm.stop(0);
        trap.stop(0);
        access.close();
        repos.close();
        kube.close();
    }

    static String helmUrl() {
        return "http://127.0.0.1:" + helm.getAddress().getPort() + "/";
    }

    static String trapUrl() {
        return "http://127.0.0.1:" + trap.getAddress().getPort() + "/";
    }

    static String operatorRelease(String name, String chart) {
        return """
                apiVersion: helm.fluxcd.io/v1
                kind: HelmRelease
                metadata: {name: %s, namespace: apps}
                spec:
                  releaseName: %s
                  chart: %s
                """.formatted(name, name, chart);
    }

    static String flux2Release(String name, String sourceKind, String source, String sourceSpec) {
        return """
                apiVersion: source.toolkit.fluxcd.io/v1
                kind: %s
                metadata: {name: %s, namespace: apps}
                spec: %s
                ---
                apiVersion: helm.toolkit.fluxcd.io/v2
                kind: HelmRelease
                metadata: {name: %s, namespace: apps}
                spec:
                  chart: {spec: {chart: web, version: "1.0.0", sourceRef: {kind: %s, name: %s}}}
                """.formatted(sourceKind, source, sourceSpec, name, sourceKind, source);
    }

    @Test
    void chartSourcesTheOutboundPolicyRefusesFailTheirReleaseNamingTheFieldAndAreNeverDialled() throws Exception {
        int trappedBefore = trapped.get();
        BareRepo gitops = repos.createBare("gitops-outbound");
        gitops.writer()
                // allowed: the Helm repository on the allowed port, and a chart git repository under the file root
                .file("apps/allowed.yaml", operatorRelease("allowed", "{repository: \"" + helmUrl()
                        + "\", name: web, version: 1.0.0}"))
                .file("apps/allowed-git.yaml", operatorRelease("allowed-git", "{git: \"" + chartRepo.fileUrl()
                        + "\", ref: main, path: web}"))
                // refused
                .file("apps/metadata.yaml", operatorRelease("metadata",
                        "{repository: \"http://169.254.169.254/charts\", name: web, version: 1.0.0}"))
                .file("apps/file.yaml", flux2Release("file", "HelmRepository", "etc", "{url: \"file:///etc\"}"))
                .file("apps/proxy-command.yaml", operatorRelease("proxy-command",
                        "{git: \"ssh://-oProxyCommand=touch%20" + work.resolve("pwned") + "@h/r\", ref: main, "
                                + "path: web}"))
                .file("apps/redirect.yaml", flux2Release("redirect", "HelmRepository", "moved", "{url: \""
                        + helmUrl() + "moved/\"}"))
                .file("apps/trap.yaml", flux2Release("trap", "HelmRepository", "trap", "{url: \"" + trapUrl()
                        + "\"}"))
                .file("apps/leaky-index.yaml", operatorRelease("leaky-index", "{repository: \"" + helmUrl()
                        + "leaky/\", name: web, version: 1.0.0}"))
                .file("apps/oci.yaml", """
                        apiVersion: source.toolkit.fluxcd.io/v1beta2
                        kind: OCIRepository
                        metadata: {name: registry, namespace: apps}
                        spec: {url: "oci://127.0.0.1:%d/charts/web", insecure: true, ref: {tag: 1.0.0}}
                        ---
                        apiVersion: helm.toolkit.fluxcd.io/v2
                        kind: HelmRelease
                        metadata: {name: oci, namespace: apps}
                        spec:
                          chartRef: {kind: OCIRepository, name: registry}
                        """.formatted(trap.getAddress().getPort()))
                .file("apps/dns.yaml", flux2Release("dns", "HelmRepository", "private-dns",
                        "{url: \"http://charts.example.com/\"}"))
                .file("apps/git-repository.yaml", flux2Release("git-repository", "GitRepository", "private",
                        "{url: \"" + trapUrl() + "charts.git\", ref: {branch: main}}"))
                .message("chart sources").commit();

        SyncResult result = reconciler.sync(new RepoSpec("outbound", gitops.fileUrl(), "main", "", Duration
                .ofMinutes(5), true, false), Set.of());

        Map<String, ReleaseResult> byName = new java.util.HashMap<>();
        result.releases().forEach(r -> byName.put(r.name(), r));
        assertThat(byName.get("allowed").state()).as(byName.get("allowed").message()).isNotEqualTo(
                ReleaseResult.State.FAILED);
        assertThat(client.configMaps().inNamespace("apps").withName("allowed").get().getData()).containsEntry("chart",
                "web-1.0.0");
        assertThat(byName.get("allowed-git").state()).as(byName.get("allowed-git").message()).isNotEqualTo(
                ReleaseResult.State.FAILED);

        Map<String, String> fields = Map.of(
                "metadata", "spec.chart.repository",
                "file", "HelmRepository apps/etc spec.url",
                "proxy-command", "spec.chart.git",
                "redirect", "HelmRepository apps/moved spec.url",
                "trap", "HelmRepository apps/trap spec.url",
                "leaky-index", "index.yaml entries.web.urls (spec.chart.repository)",
                "oci", "OCIRepository apps/registry spec.url",
                "git-repository", "GitRepository apps/private spec.url",
                "dns", "HelmRepository apps/private-dns spec.url");
        fields.forEach((name, field) -> {
            ReleaseResult r = byName.get(name);
            assertThat(r).as(name).isNotNull();
            assertThat(r.state()).as(name).isEqualTo(ReleaseResult.State.FAILED);
            assertThat(r.reason()).as(name + ": " + r.message()).isEqualTo(ProblemReason.OUTBOUND_REFUSED);
            assertThat(r.stalled()).as(name).isTrue();
            assertThat(r.message()).as(name).contains("refused by the outbound policy").contains(field);
            assertThat(client.configMaps().inNamespace("apps").withName(name).get()).as(name).isNull();
        });
        assertThat(byName.get("metadata").message()).contains("169.254.169.254");
        assertThat(byName.get("redirect").message()).contains("a redirect answered by 127.0.0.1");
        // nothing refused was dialled: not the trap, not a program through ssh's ProxyCommand
        assertThat(byName.get("dns").message()).contains("resolves to");
        assertThat(trapped).hasValue(trappedBefore);
        assertThat(work.resolve("pwned")).doesNotExist();
    }

    /** The trap is a real listener: without a policy, the same sources are dialled (the test can fail). */
    @Test
    void withoutThePolicyTheTrapIsDialled() throws Exception {
        ChartRenderer open = new ChartRenderer(work.resolve("open"));
        int before = trapped.get();
        try {
            open.sourceKey(new dev.conveyor.fluxsync.domain.ChartSource.HelmRepository(helmUrl() + "moved/", "web",
                    "1.x"));
        } catch (ChartRenderer.RenderException expected) {
            // the trap answers an empty index
        }
        assertThat(trapped.get()).isGreaterThan(before);
    }
}
