package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.Release;

import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * What the API stand-in cannot show, on a real cluster: server-side apply with the field manager, rollouts that a real
 * controller finishes (health), {@code helm list} showing the release, drift restored over SSA, prune. Runs only when {@code KUBECONFIG} is set (JUnit reports
 * it as skipped otherwise); everything it creates lives in one fresh namespace, deleted at the end. The pod image is
 * {@code registry.k8s.io/pause:3.10}, so the cluster must be able to pull it.
 */
@EnabledIfEnvironmentVariable(named = "KUBECONFIG", matches = ".+")
class RealClusterIT {

    static KubernetesClient client;
    static GitRepos repos;
    static GitAccess access;
    static Path work;
    static String ns;

    @BeforeAll
    static void start() throws Exception {
        client = new KubernetesClientBuilder().build();
        repos = new GitRepos();
        access = GitAccess.create(GitCredentials.none());
        work = Files.createTempDirectory("flux-sync-real");
        ns = "conveyor-it-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.namespaces().withName(ns).delete();
            client.configMaps().inNamespace("default").withName("flux-sync-inventory-real").delete();
            client.close();
        }
        if (access != null) {
            access.close();
        }
        if (repos != null) {
            repos.close();
        }
    }

    @Test
    void serverSideApplyHealthDriftAndPruneOnARealCluster() {
        KubeCluster cluster = new KubeCluster(client, "conveyor-flux-sync");
        RepoReconciler reconciler = new RepoReconciler(new RepoMirrors(work.resolve("mirrors"), access), cluster,
                new ChartRenderer(work.resolve("work")), new RepoReconciler.Settings("charts", "default", Duration
                        .ofMinutes(3), Duration.ofSeconds(2), work.resolve("work")),
                new SimpleMeterRegistry(), Clock.systemUTC());
        BareRepo repo = repos.createBare("real");
        String chartDeployment = SeedRepo.CHART_DEPLOYMENT.replace("{{ .Values.image }}",
                "registry.k8s.io/pause:3.10");
        repo.writer().file("charts/chart1/Chart.yaml", SeedRepo.CHART).file("charts/chart1/values.yaml",
                SeedRepo.CHART_VALUES).file("charts/chart1/templates/deployment.yaml", chartDeployment)
                .file("namespaces/it.yaml", SeedRepo.namespace(ns))
                .file("releases/manifests/" + ns + "/cfg.yaml", SeedRepo.configMap("cfg", "1"))
                .file("releases/manifests/" + ns + "/gone.yaml", SeedRepo.configMap("gone", "1"))
                .message("real cluster").commit();
        RepoSpec spec = new RepoSpec("real", repo.fileUrl(), "main", "", Duration.ofMinutes(5), true, false);

        SyncResult first = reconciler.sync(spec, Set.of());
        assertThat(first.problems()).isEmpty();
        assertThat(cluster.serverSideApply()).isTrue();
        assertThat(client.configMaps().inNamespace(ns).withName("cfg").get().getMetadata().getManagedFields())
                .anySatisfy(f -> {
                    assertThat(f.getManager()).isEqualTo("conveyor-flux-sync");
                    assertThat(f.getOperation()).isEqualTo("Apply");
                });

        // a release whose pods really start is healthy once the controller rolled it out
        repo.writer().file("releases/helm/" + ns + "/web.yaml", SeedRepo.fluxHelmRelease("web", ns,
                "registry.k8s.io/pause:3.10", "")).delete("releases/manifests/" + ns + "/gone.yaml")
                .message("release").commit();
        SyncResult second = reconciler.sync(spec, Set.of());
        assertThat(second.summary().pruned()).isEqualTo(1);
        assertThat(client.configMaps().inNamespace(ns).withName("gone").get()).isNull();
        assertThat(second.releases()).singleElement().satisfies(r -> assertThat(r.state()).isEqualTo(
                ReleaseResult.State.HEALTHY));

        // helm sees the release, as the seed promises
        List<Release> listed = Helm.list().withNamespace(ns).withKubeConfig(Path.of(System.getenv("KUBECONFIG")
                .split(java.io.File.pathSeparator)[0])).call();
        assertThat(listed).extracting(Release::getName, Release::getStatus, Release::getChart).containsExactly(
                org.assertj.core.groups.Tuple.tuple(ns + "-web", "deployed", "chart1-0.1.0"));

        client.configMaps().inNamespace(ns).withName("cfg").edit(c -> {
            c.getData().put("value", "changed");
            return c;
        });
        SyncResult third = reconciler.sync(spec, Set.of());
        assertThat(third.drifted()).isEqualTo(1);
        assertThat(client.configMaps().inNamespace(ns).withName("cfg").get().getData()).containsEntry("value", "1");
        Deployment web = client.apps().deployments().inNamespace(ns).withName(ns + "-web").get();
        assertThat(web.getStatus().getAvailableReplicas()).isEqualTo(1);
    }
}
