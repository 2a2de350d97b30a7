package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.marcnuri.helm.Helm;

import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.client.SopsDecryptor;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import dev.conveyor.testkit.registry.OciRegistry;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Charts from an OCI registry (the testkit's docker-registry, plain HTTP), pushed with helm-java: a Flux v2 release
 * through a {@code HelmRepository} of {@code type: oci} ({@code insecure: true}), and a Helm Operator release with an
 * {@code oci://} repository (plain HTTP by configuration).
 */
class OciChartsIT {

    static OciRegistry registry;
    static KubernetesApiStandIn kube;
    static KubernetesClient client;
    static GitRepos repos;
    static GitAccess access;
    static Path work;

    @BeforeAll
    static void start() throws Exception {
        registry = OciRegistry.start();
        kube = KubernetesApiStandIn.start();
        client = kube.client();
        repos = new GitRepos();
        access = GitAccess.create(GitCredentials.none());
        work = Files.createTempDirectory("flux-sync-oci");
    }

    @AfterAll
    static void stop() {
        access.close();
        repos.close();
        kube.close();
        registry.close();
    }

    @Test
    void chartsFromAnOciRegistryAreRenderedForBothReleaseKinds() throws Exception {
        Path chartDir = work.resolve("src/chart1");
        Files.createDirectories(chartDir.resolve("templates"));
        Files.writeString(chartDir.resolve("Chart.yaml"), SeedRepo.CHART);
        Files.writeString(chartDir.resolve("values.yaml"), SeedRepo.CHART_VALUES);
        Files.writeString(chartDir.resolve("templates/deployment.yaml"), SeedRepo.CHART_DEPLOYMENT);
        Path packaged = Files.createDirectories(work.resolve("packaged"));
        new Helm(chartDir).packageIt().withDestination(packaged).call();
        Helm.push().withChart(packaged.resolve("chart1-0.1.0.tgz")).withRemote(URI.create("oci://" + registry.host()
                + "/charts")).plainHttp().call();
        assertThat(registry.tags("charts/chart1")).containsExactly("0.1.0");

        BareRepo repo = repos.createBare("oci-charts");
        repo.writer().file("releases/helm/oci/sources.yaml", """
                apiVersion: source.toolkit.fluxcd.io/v1
                kind: HelmRepository
                metadata:
                  name: charts
                spec:
                  type: oci
                  insecure: true
                  url: oci://%s/charts
                """.formatted(registry.host()))
                .file("releases/helm/oci/v2.yaml", """
                        apiVersion: helm.toolkit.fluxcd.io/v2
                        kind: HelmRelease
                        metadata:
                          name: from-oci-v2
                        spec:
                          interval: 5m
                          chart:
                            spec:
                              chart: chart1
                              version: 0.1.0
                              sourceRef:
                                kind: HelmRepository
                                name: charts
                          values:
                            image: example/v2:1
                        """)
                .file("releases/helm/oci/operator.yaml", """
                        apiVersion: helm.fluxcd.io/v1
                        kind: HelmRelease
                        metadata:
                          name: from-oci-op
                        spec:
                          releaseName: from-oci-op
                          chart:
                            repository: oci://%s/charts
                            name: chart1
                            version: 0.1.0
                          values:
                            image: example/op:1
                        """.formatted(registry.host()))
                .message("charts from OCI").commit();
        RepoMirrors mirrors = new RepoMirrors(work.resolve("mirrors"), access);
        RepoReconciler reconciler = new RepoReconciler(mirrors, r -> mirrors, new KubeCluster(kube.newClient(),
                "conveyor-flux-sync"), new ChartRenderer(work.resolve("work"), Set.of(registry.host())),
                new RepoReconciler.Settings("charts", "conveyor", Duration.ofMillis(100), Duration.ofMillis(50), work
                        .resolve("work")),
                new SimpleMeterRegistry(), Clock.systemUTC(), new SopsDecryptor(List::of));

        SyncResult result = reconciler.sync(new RepoSpec("oci", repo.fileUrl(), "main", "", Duration.ofMinutes(5),
                true, false), Set.of());

        // the HelmRepository is read as the v2 release's source, not applied (reported as skipped); the releases render
        assertThat(result.problems()).isEmpty();
        assertThat(result.skipped()).extracting(s -> s.path()).contains("releases/helm/oci/sources.yaml");
        assertThat(client.apps().deployments().inNamespace("oci").withName("from-oci-v2").get().getSpec()
                .getTemplate().getSpec().getContainers().get(0).getImage()).isEqualTo("example/v2:1");
        assertThat(client.apps().deployments().inNamespace("oci").withName("from-oci-op").get().getSpec()
                .getTemplate().getSpec().getContainers().get(0).getImage()).isEqualTo("example/op:1");
        assertThat(result.releases()).extracting(ReleaseResult::name).contains("from-oci-v2", "from-oci-op");
    }
}
