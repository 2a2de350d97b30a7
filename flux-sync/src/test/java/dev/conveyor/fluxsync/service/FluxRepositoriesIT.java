package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.eclipse.jgit.lib.Repository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpServer;

import dev.conveyor.fluxsync.ServedFiles;
import dev.conveyor.fluxsync.client.ChartCredentials;
import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.client.GitCharts;
import dev.conveyor.fluxsync.client.GitopsSnapshot;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.client.SopsDecryptor;
import dev.conveyor.fluxsync.client.SshIdentity;
import dev.conveyor.fluxsync.config.FluxSyncBeans;
import dev.conveyor.fluxsync.domain.ChartSource;
import dev.conveyor.fluxsync.domain.DesiredState;
import dev.conveyor.fluxsync.domain.ProblemReason;
import dev.conveyor.fluxsync.domain.RepoLayout;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.GitFailure;
import dev.conveyor.stage.git.GitUrls;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.git.SshGitServer;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import dev.conveyor.testkit.kube.ReleaseCrds;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Real GitOps repositories in the layouts users have, synced into the API stand-in over the project's real SSH git
 * server with the SSH identity flux-sync generates at first start (its public key added as an authorized key, as a
 * user adds it as a deploy key), charts from another git repository over SSH and from a Helm repository served here
 * over HTTP: Flux v1 with the Helm Operator's get-started layout, and Flux v2 with {@code clusters/<name>/} pointing at
 * {@code infrastructure/} and {@code apps/}, sources declared as objects.
 */
class FluxRepositoriesIT {

    static final String NAMESPACE = "conveyor";

    static KubernetesApiStandIn kube;
    static KubernetesClient client;
    static GitRepos repos;
    static SshGitServer ssh;
    static HttpServer http;
    static Path work;
    static GitAccess access;
    static RepoMirrors mirrors;
    static ChartRenderer renderer;
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
            """;

    @BeforeAll
    static void start() throws Exception {
        kube = KubernetesApiStandIn.start();
        client = kube.client();
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata()
                .build()).create();
        repos = new GitRepos();
        ssh = SshGitServer.start();
        work = Files.createTempDirectory("flux-repos-it");
        http = helmRepository(work.resolve("served"));

        // The identity flux-sync generates at first start, used for git over SSH since no key is configured.
        GitCredentials shared = new GitCredentials(Optional.empty(), Optional.of(ssh.knownHosts()), true,
                "x-access-token", Optional.empty());
        GitCredentials withIdentity = FluxSyncBeans.withIdentity(shared, true, client, NAMESPACE,
                "flux-sync-identity", work);
        assertThat(withIdentity.sshPrivateKey()).contains(work.resolve("identity/identity"));
        access = GitAccess.create(withIdentity);
        mirrors = new RepoMirrors(work.resolve("mirrors"), access);
        renderer = new ChartRenderer(work.resolve("work"), Set.of(), ChartCredentials.none(), new GitCharts(
                url -> mirrors, work.resolve("work")));
        reconciler = new RepoReconciler(mirrors, r -> mirrors, new KubeCluster(kube.newClient(),
                "conveyor-flux-sync"), renderer,
                new RepoReconciler.Settings("charts", NAMESPACE, Duration
                        .ofSeconds(2), Duration.ofMillis(50), work.resolve("work")),
                new SimpleMeterRegistry(), Clock.systemUTC(), new SopsDecryptor(List::of));

        charts = repos.createBare("charts");
        charts.writer().file("charts/podinfo/Chart.yaml", "apiVersion: v2\nname: podinfo\nversion: 6.0.0\n")
                .file("charts/podinfo/values.yaml", "color: blue\n")
                .file("charts/podinfo/templates/cm.yaml", CONFIGMAP_TEMPLATE)
                .message("podinfo chart").commit();
    }

    @AfterAll
    static void stop() {
        http.stop(0);
        access.close();
        ssh.close();
        repos.close();
        kube.close();
    }

    /** A Helm repository over HTTP: chart {@code web} in versions 1.1.0, 1.2.0, 1.3.1 and 2.0.0. */
    static HttpServer helmRepository(Path served) throws Exception {
        ServedFiles.helmRepository(work, served, "web", List.of("1.1.0", "1.2.0", "1.3.1", "2.0.0"), v -> Map.of(
                "Chart.yaml", "apiVersion: v2\nname: web\nversion: " + v + "\n", "values.yaml", "color: green\n",
                "templates/cm.yaml", CONFIGMAP_TEMPLATE));
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            ServedFiles.send(exchange, served);
        });
        server.start();
        return server;
    }

    static String helmUrl() {
        return "http://127.0.0.1:" + http.getAddress().getPort() + "/";
    }

    static RepoSpec spec(String name, BareRepo repo) {
        return new RepoSpec(name, ssh.url(repo), "main", "", Duration.ofMinutes(5), true, false);
    }

    static Map<String, String> data(String ns, String name) {
        var cm = client.configMaps().inNamespace(ns).withName(name).get();
        return cm == null ? Map.of() : cm.getData();
    }

    /** The release object's status (conditions, revisions) as text. */
    static String status(ResourceDefinitionContext kind, String namespace, String name) {
        GenericKubernetesResource r = client.genericKubernetesResources(kind).inNamespace(namespace).withName(name)
                .get();
        assertThat(r).as("%s/%s applied", namespace, name).isNotNull();
        return String.valueOf(r.getAdditionalProperties().get("status"));
    }

    /** The {@code skipped} report of the repository's inventory ConfigMap: what is in git but not applied. */
    static String skippedReport(String repo) {
        var cm = client.configMaps().inNamespace(NAMESPACE).withName("flux-sync-inventory-" + repo).get();
        return cm == null || cm.getData() == null ? null : cm.getData().get("skipped");
    }

    /** Helm's records of a release, newest first: {@code v<revision> <status> <chart name> <chart version>}. */
    static List<String> helmRecords(String namespace, String release) throws IOException {
        return HelmRecords.of(client, namespace, release).stream().map(r -> "v" + r.version() + " " + r.status() + " "
                + r.chartName() + " " + r.chartVersion()).toList();
    }

    /** Adds flux-sync's public key to the SSH server's authorized keys, as a user adds a deploy key. */
    static void authorizeIdentity() throws IOException {
        String publicKey = SshIdentity.ensure(client, NAMESPACE, "flux-sync-identity");
        Path authorizedKeys = ssh.hostPublicKey().getParent().resolve("authorized_keys");
        if (!Files.readString(authorizedKeys).contains(publicKey)) {
            Files.writeString(authorizedKeys, publicKey + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        }
    }

    /** Reads a revision the way the reconciler does. */
    static DesiredState layout(BareRepo repo) throws IOException {
        ReentrantLockHolder.lock(mirrors, ssh.url(repo));
        try (Repository git = mirrors.fetch(ssh.url(repo))) {
            String head = GitopsSnapshot.head(git, "main").orElseThrow();
            GitopsSnapshot snapshot = GitopsSnapshot.read(git, head, "");
            return new RepoLayout("charts").parse(snapshot.yamlFiles(), snapshot.allPaths());
        } finally {
            ReentrantLockHolder.unlock(mirrors, ssh.url(repo));
        }
    }

    static final class ReentrantLockHolder {
        static void lock(RepoMirrors m, String url) {
            m.lock(url).lock();
        }

        static void unlock(RepoMirrors m, String url) {
            m.lock(url).unlock();
        }
    }

    @Test
    void aFluxV1RepositoryInTheHelmOperatorLayoutSyncsOverSshWithTheGeneratedIdentity() throws Exception {
        // a chart repository of its own: the test moves its branch
        BareRepo podinfoCharts = repos.createBare("charts-v1");
        podinfoCharts.writer().file("charts/podinfo/Chart.yaml", "apiVersion: v2\nname: podinfo\nversion: 6.0.0\n"
                + "appVersion: 6.0.0\n").file("charts/podinfo/values.yaml", "color: blue\n").file(
                        "charts/podinfo/templates/cm.yaml", CONFIGMAP_TEMPLATE)
                .message("podinfo 6.0.0").commit();
        BareRepo gitops = repos.createBare("flux-v1");
        gitops.writer().file("README.md", "# Helm Operator get started\n")
                .file("namespaces/demo.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: demo}\n")
                .file("namespaces/prod.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: prod}\n")
                .file("releases/dev/podinfo.yaml", """
                        apiVersion: helm.fluxcd.io/v1
                        kind: HelmRelease
                        metadata: {name: podinfo, namespace: demo}
                        spec:
                          releaseName: podinfo-dev
                          chart:
                            git: %s
                            ref: main
                            path: charts/podinfo
                          values: {color: red}
                        """.formatted(ssh.url(podinfoCharts)))
                .file("releases/prod/web.yaml", """
                        apiVersion: helm.fluxcd.io/v1
                        kind: HelmRelease
                        metadata: {name: web, namespace: prod}
                        spec:
                          releaseName: web
                          chart: {repository: "%s", name: web, version: 1.2.0}
                        """.formatted(helmUrl()))
                .message("get started").commit();

        // An identity whose key was not added to the server is refused: the identity is what gives access.
        Path otherWork = Files.createTempDirectory(work, "other");
        try (GitAccess other = GitAccess.create(FluxSyncBeans.withIdentity(new GitCredentials(Optional.empty(),
                Optional.of(ssh.knownHosts()), true, "x-access-token", Optional.empty()), true, client, NAMESPACE,
                "other-identity", otherWork))) {
            assertThatThrownBy(() -> new RepoMirrors(otherWork.resolve("mirrors"), other).fetch(ssh.url(gitops))
                    .close()).isInstanceOfSatisfying(StageException.class, e -> assertThat(e.reason()).isEqualTo(
                            GitFailure.AUTH_DENIED.name()));
        }
        authorizeIdentity();

        SyncResult result = reconciler.sync(spec("flux-v1", gitops), Set.of());

        assertThat(result.problems()).isEmpty();
        assertThat(client.namespaces().withName("demo").get()).isNotNull();
        assertThat(client.namespaces().withName("prod").get()).isNotNull();
        // the chart from the other repository over SSH, at its ref, with the release's values
        assertThat(data("demo", "podinfo-dev")).containsEntry("chart", "podinfo-6.0.0").containsEntry("color",
                "red");
        // the chart from the Helm repository over HTTP
        assertThat(data("prod", "web")).containsEntry("chart", "web-1.2.0").containsEntry("color", "green");
        assertThat(result.releases()).extracting(ReleaseResult::name).containsExactlyInAnyOrder("podinfo", "web");
        assertThat(result.releases()).allSatisfy(r -> assertThat(r.state()).isNotEqualTo(
                ReleaseResult.State.FAILED));
        // the release objects carry their conditions: no workloads to wait for, so ready
        assertThat(status(ReleaseCrds.HELM_OPERATOR_RELEASE, "demo", "podinfo")).contains(
                "type=Ready, status=True, reason=ReconciliationSucceeded").contains("type=Stalled, status=False")
                .contains("lastAppliedRevision=" + result.revision()).contains("helmReleaseName=podinfo-dev");
        assertThat(status(ReleaseCrds.HELM_OPERATOR_RELEASE, "prod", "web")).contains(
                "type=Ready, status=True, reason=ReconciliationSucceeded");
        // helm list shows the chart's own name and version (from its Chart.yaml), not the release name
        assertThat(helmRecords("demo", "podinfo-dev")).containsExactly("v1 deployed podinfo 6.0.0");
        assertThat(helmRecords("prod", "web")).containsExactly("v1 deployed web 1.2.0");
        // what is in git but not applied: in the result, the repository's status (GET /repos) and its ConfigMap
        assertThat(result.skipped()).extracting(DesiredState.Skipped::toString).containsExactly(
                "README.md: not a YAML file");
        assertThat(reconciler.skipped("flux-v1")).isEqualTo(result.skipped());
        assertThat(skippedReport("flux-v1")).isEqualTo("README.md\tnot a YAML file\n");

        // the chart's branch moves: the release renders the new commit's chart (the render key follows the ref)
        podinfoCharts.writer().file("charts/podinfo/Chart.yaml", "apiVersion: v2\nname: podinfo\nversion: 6.1.0\n")
                .message("podinfo 6.1.0").commit();
        SyncResult moved = reconciler.sync(spec("flux-v1", gitops), Set.of());
        assertThat(moved.newRevision()).isFalse();
        assertThat(moved.problems()).isEmpty();
        assertThat(data("demo", "podinfo-dev")).containsEntry("chart", "podinfo-6.1.0");
        assertThat(helmRecords("demo", "podinfo-dev")).containsExactly("v2 deployed podinfo 6.1.0",
                "v1 superseded podinfo 6.0.0");
        assertThat(helmRecords("prod", "web")).containsExactly("v1 deployed web 1.2.0");
        assertThat(moved.skipped()).isEqualTo(result.skipped());
    }

    @Test
    void aFluxV2RepositoryWithClustersInfrastructureAndAppsAndSourcesAsObjects() throws Exception {
        authorizeIdentity();
        BareRepo gitops = repos.createBare("flux-v2");
        gitops.writer()
                .file("clusters/prod/infrastructure.yaml", """
                        apiVersion: kustomize.toolkit.fluxcd.io/v1
                        kind: Kustomization
                        metadata: {name: infrastructure, namespace: flux-system}
                        spec: {path: ./infrastructure, sourceRef: {kind: GitRepository, name: flux-system}}
                        """)
                .file("clusters/prod/apps.yaml", """
                        apiVersion: kustomize.toolkit.fluxcd.io/v1
                        kind: Kustomization
                        metadata: {name: apps, namespace: flux-system}
                        spec: {path: ./apps, sourceRef: {kind: GitRepository, name: flux-system}}
                        """)
                .file("infrastructure/namespaces.yaml",
                        "apiVersion: v1\nkind: Namespace\nmetadata: {name: apps}\n")
                .file("infrastructure/sources.yaml", """
                        apiVersion: source.toolkit.fluxcd.io/v1
                        kind: HelmRepository
                        metadata: {name: local, namespace: apps}
                        spec: {url: "%s"}
                        ---
                        apiVersion: source.toolkit.fluxcd.io/v1
                        kind: GitRepository
                        metadata: {name: charts, namespace: apps}
                        spec: {url: "%s", ref: {branch: main}}
                        ---
                        apiVersion: source.toolkit.fluxcd.io/v1
                        kind: HelmChart
                        metadata: {name: web-1x, namespace: apps}
                        spec: {chart: web, version: "1.x", sourceRef: {kind: HelmRepository, name: local}}
                        """.formatted(helmUrl(), ssh.url(charts)))
                .file("apps/web.yaml", """
                        apiVersion: helm.toolkit.fluxcd.io/v2
                        kind: HelmRelease
                        metadata: {name: web, namespace: apps}
                        spec:
                          chart:
                            spec:
                              chart: web
                              version: ">=1.2.0 <2"
                              sourceRef: {kind: HelmRepository, name: local}
                        """)
                .file("apps/podinfo.yaml", """
                        apiVersion: helm.toolkit.fluxcd.io/v2
                        kind: HelmRelease
                        metadata: {name: podinfo, namespace: apps}
                        spec:
                          chart:
                            spec:
                              chart: ./charts/podinfo
                              sourceRef: {kind: GitRepository, name: charts}
                          values: {color: violet}
                        """)
                .file("apps/web-ref.yaml", """
                        apiVersion: helm.toolkit.fluxcd.io/v2
                        kind: HelmRelease
                        metadata: {name: web-ref, namespace: apps}
                        spec:
                          chartRef: {kind: HelmChart, name: web-1x}
                        """)
                .message("flux v2").commit();

        SyncResult result = reconciler.sync(spec("flux-v2", gitops), Set.of());

        assertThat(result.problems()).isEmpty();
        assertThat(data("apps", "web")).containsEntry("chart", "web-1.3.1");
        assertThat(data("apps", "web-ref")).containsEntry("chart", "web-1.3.1");
        assertThat(data("apps", "podinfo")).containsEntry("chart", "podinfo-6.0.0").containsEntry("color",
                "violet");
        assertThat(result.releases()).extracting(ReleaseResult::name).containsExactlyInAnyOrder("web", "web-ref",
                "podinfo");
        // Flux's own objects are read as sources, not applied (the stand-in does not even know their kinds)
        DesiredState desired = layout(gitops);
        assertThat(desired.objects()).extracting(m -> m.ref().toString()).containsExactly("Namespace apps",
                "HelmRelease apps/podinfo", "HelmRelease apps/web", "HelmRelease apps/web-ref");
        assertThat(client.namespaces().withName("apps").get()).isNotNull();
        for (String release : List.of("web", "web-ref", "podinfo")) {
            assertThat(status(ReleaseCrds.FLUX2_RELEASE, "apps", release)).contains(
                    "type=Ready, status=True, reason=ReconciliationSucceeded").contains("type=Stalled, status=False")
                    .contains("lastAppliedRevision=" + result.revision());
        }
        // helm list: the range's resolved version, the git chart's own name and version
        assertThat(helmRecords("apps", "web")).containsExactly("v1 deployed web 1.3.1");
        assertThat(helmRecords("apps", "web-ref")).containsExactly("v1 deployed web 1.3.1");
        assertThat(helmRecords("apps", "podinfo")).containsExactly("v1 deployed podinfo 6.0.0");
        // the skipped report, in the result, the status and the ConfigMap: the Kustomizations and the sources
        assertThat(result.skipped()).extracting(DesiredState.Skipped::path).containsExactlyInAnyOrder(
                "clusters/prod/apps.yaml", "clusters/prod/infrastructure.yaml", "infrastructure/sources.yaml",
                "infrastructure/sources.yaml", "infrastructure/sources.yaml");
        assertThat(result.skipped()).isEqualTo(desired.skipped());
        assertThat(reconciler.skipped("flux-v2")).isEqualTo(result.skipped());
        assertThat(skippedReport("flux-v2")).contains("clusters/prod/apps.yaml\t").contains(
                "infrastructure/sources.yaml\t");
    }

    @Test
    void aChartRepositoryThatCannotBeReachedOrHasNoSuchRefFailsNamingUrlRefAndCause() throws Exception {
        authorizeIdentity();
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        ChartRenderer.RenderException refused = renderFailure(new ChartSource.Git("ssh://git@127.0.0.1:" + closed
                + "/charts.git", "master", "charts/podinfo", "spec.chart.git"));
        assertThat(refused.getMessage()).contains("ssh://127.0.0.1:" + closed + "/charts.git").contains(
                "ref master").contains("connection refused");
        assertThat(refused.retriable()).isTrue();

        ChartRenderer.RenderException unknown = renderFailure(new ChartSource.Git(
                "ssh://git@charts.conveyor-test.invalid/charts.git", "master", "", "spec.chart.git"));
        assertThat(unknown.getMessage()).contains("charts.conveyor-test.invalid").contains("host not found");
        assertThat(unknown.retriable()).isTrue();

        ChartRenderer.RenderException noRef = renderFailure(new ChartSource.Git(ssh.url(charts), "master",
                "charts/podinfo", "spec.chart.git"));
        assertThat(noRef.getMessage()).contains(GitUrls.redact(ssh.url(charts))).contains("ref master does not exist")
                .contains(
                        "its branches: main");
        assertThat(noRef.retriable()).isFalse();

        // a key the server does not know: authentication denied, with what to do; no retry fixes it
        Path otherWork = Files.createTempDirectory(work, "denied");
        try (GitAccess other = GitAccess.create(FluxSyncBeans.withIdentity(new GitCredentials(Optional.empty(),
                Optional.of(ssh.knownHosts()), true, "x-access-token", Optional.empty()), true, client, NAMESPACE,
                "unauthorized-identity", otherWork))) {
            RepoMirrors otherMirrors = new RepoMirrors(otherWork.resolve("mirrors"), other);
            ChartRenderer denied = new ChartRenderer(otherWork.resolve("work"), Set.of(), ChartCredentials.none(),
                    new GitCharts(url -> otherMirrors, otherWork.resolve("work")));
            assertThatThrownBy(() -> denied.renderRemote(new ChartSource.Git(ssh.url(charts), "main",
                    "charts/podinfo", "spec.chart.git"), "r", "ns", Map.of())).isInstanceOfSatisfying(
                            ChartRenderer.RenderException.class, e -> {
                                assertThat(e.getMessage()).contains(GitUrls.redact(ssh.url(charts))).contains(
                                        "ref main").contains("authentication denied").contains("/identity.pub");
                                assertThat(e.authDenied()).isTrue();
                                assertThat(e.retriable()).isFalse();
                            });
        }

        // through a sync: each release fails alone with its reason; a retry can fix only the unreachable one, so
        // only the others are Stalled; the GitOps repository's own chart is never rendered instead
        BareRepo broken = repos.createBare("broken-charts");
        broken.writer().file("charts/broken/Chart.yaml", "apiVersion: v2\nname: broken\nversion: 1.0.0\n").file(
                "charts/broken/templates/cm.yaml", "{{ fail \"this chart does not render\" }}\n").message("broken")
                .commit();
        BareRepo gitops = repos.createBare("flux-v1-bad-ref");
        gitops.writer().file("charts/podinfo/Chart.yaml", "apiVersion: v2\nname: own\nversion: 0.0.1\n")
                .file("charts/podinfo/templates/cm.yaml", CONFIGMAP_TEMPLATE)
                .file("releases/bad/podinfo.yaml", """
                        apiVersion: helm.fluxcd.io/v1
                        kind: HelmRelease
                        metadata: {name: podinfo, namespace: bad}
                        spec:
                          releaseName: bad-podinfo
                          chart: {git: "%s", path: charts/podinfo}
                        """.formatted(ssh.url(charts)))
                .file("releases/bad/closed.yaml", """
                        apiVersion: helm.fluxcd.io/v1
                        kind: HelmRelease
                        metadata: {name: closed, namespace: bad}
                        spec:
                          chart: {git: "ssh://git@127.0.0.1:%d/charts.git", ref: main, path: charts/podinfo}
                        """.formatted(closed))
                .file("releases/bad/broken.yaml", """
                        apiVersion: helm.fluxcd.io/v1
                        kind: HelmRelease
                        metadata: {name: broken, namespace: bad}
                        spec:
                          chart: {git: "%s", ref: main, path: charts/broken}
                        """.formatted(ssh.url(broken)))
                .message("default ref").commit();
        SyncResult result = reconciler.sync(spec("flux-v1-bad-ref", gitops), Set.of());
        assertThat(result.releases()).allSatisfy(r -> assertThat(r.state()).isEqualTo(ReleaseResult.State.FAILED));
        assertThat(result.releases()).extracting(ReleaseResult::name, ReleaseResult::reason).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple("podinfo", ProblemReason.CHART_SOURCE_INVALID),
                org.assertj.core.groups.Tuple.tuple("closed", ProblemReason.CHART_SOURCE_UNREACHABLE),
                org.assertj.core.groups.Tuple.tuple("broken", ProblemReason.RENDER_FAILED));
        assertThat(result.releases()).filteredOn(r -> r.name().equals("podinfo")).singleElement().satisfies(
                r -> assertThat(r.message()).contains("ref master does not exist"));
        assertThat(result.releases()).filteredOn(r -> r.name().equals("closed")).singleElement().satisfies(
                r -> assertThat(r.message()).contains("connection refused").doesNotContain(": null"));
        assertThat(result.releases()).filteredOn(r -> r.name().equals("broken")).singleElement().satisfies(
                r -> assertThat(r.message()).contains("this chart does not render"));
        assertThat(status(ReleaseCrds.HELM_OPERATOR_RELEASE, "bad", "podinfo")).contains(
                "type=Ready, status=False, reason=ChartSourceInvalid").contains("type=Stalled, status=True");
        assertThat(status(ReleaseCrds.HELM_OPERATOR_RELEASE, "bad", "closed")).contains(
                "type=Ready, status=False, reason=ChartSourceUnreachable").contains("type=Stalled, status=False");
        assertThat(status(ReleaseCrds.HELM_OPERATOR_RELEASE, "bad", "broken")).contains(
                "type=Ready, status=False, reason=RenderFailed").contains("type=Stalled, status=True");
        assertThat(data("bad", "bad-podinfo")).isEmpty();
        assertThat(data("bad", "bad-closed")).isEmpty();
    }

    @Test
    void aBranchThatDoesNotExistIsNamedWithTheBranchesThatDo() throws Exception {
        authorizeIdentity();
        BareRepo gitops = repos.createBare("flux-v1-master");
        gitops.writer().branch("master").file("namespaces/a.yaml", "apiVersion: v1\nkind: Namespace\n"
                + "metadata: {name: legacy-a}\n").message("on master").commit();
        String expected = "branch main does not exist in " + GitUrls.redact(ssh.url(gitops))
                + "; its branches: master — set conveyor.flux-sync.repos.legacy.branch=master (Flux v1 synced master "
                + "by default; flux-sync's default is main)";
        ReentrantLockHolder.lock(mirrors, ssh.url(gitops));
        try (Repository git = mirrors.fetch(ssh.url(gitops))) {
            assertThat(GitopsSnapshot.head(git, "main")).isEmpty();
            assertThat(GitopsSnapshot.branchNotFound(git, "main", GitUrls.redact(ssh.url(gitops)),
                    "conveyor.flux-sync.repos.legacy.branch")).isEqualTo(expected);
        } finally {
            ReentrantLockHolder.unlock(mirrors, ssh.url(gitops));
        }
        // through the reconciler: a terminal failure with that message, naming the field
        assertThatThrownBy(() -> reconciler.sync(spec("legacy", gitops), Set.of())).isInstanceOfSatisfying(
                StageException.class, e -> {
                    assertThat(e.reason()).isEqualTo(FluxSyncFailure.BRANCH_NOT_FOUND.name());
                    assertThat(e.getMessage()).isEqualTo(expected);
                });
        assertThat(client.namespaces().withName("legacy-a").get()).isNull();
        // with the branch set as the message says, it syncs
        reconciler.sync(new RepoSpec("legacy", ssh.url(gitops), "master", "", Duration.ofMinutes(5), true, false),
                Set.of());
        assertThat(client.namespaces().withName("legacy-a").get()).isNotNull();
    }

    static ChartRenderer.RenderException renderFailure(ChartSource source) {
        try {
            renderer.renderRemote(source, "r", "ns", Map.of());
        } catch (ChartRenderer.RenderException e) {
            return e;
        }
        throw new AssertionError("rendered " + source);
    }
}
