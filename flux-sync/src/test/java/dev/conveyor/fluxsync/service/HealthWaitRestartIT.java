package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.PromotionMode;
import dev.conveyor.events.v1.ReleaseDegraded;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Rollout waits survive a restart: a process starts a wait for a promoted run and stops (its health pool is shut
 * down, as at shutdown); a new process, with new instances against the same API stand-in, resumes the wait from the
 * recorded ConfigMap and sends the run's health event.
 */
class HealthWaitRestartIT {

    static KubernetesApiStandIn kube;
    static KubernetesClient client;
    static GitRepos repos;
    static GitAccess access;
    static Path work;

    @BeforeAll
    static void start() throws Exception {
        kube = KubernetesApiStandIn.start();
        client = kube.client();
        repos = new GitRepos();
        access = GitAccess.create(GitCredentials.none());
        work = Files.createTempDirectory("flux-sync-restart-it");
    }

    @AfterAll
    static void stop() {
        access.close();
        repos.close();
        kube.close();
    }

    /** One process: its own reconciler, Kubernetes client, health pool and event sink. */
    record Process(FluxSyncService service, ExecutorService pool, List<ConveyorEvent> sent) {

        static Process start(RepoSpec repo, Duration timeout) {
            RepoReconciler reconciler = new RepoReconciler(new RepoMirrors(work.resolve("mirrors-" + System
                    .nanoTime()), access), new KubeCluster(kube.newClient(), "conveyor-flux-sync"),
                    new ChartRenderer(work.resolve("work")), new RepoReconciler.Settings("charts", "conveyor",
                            timeout, Duration.ofMillis(50), work.resolve("work")),
                    new SimpleMeterRegistry(), Clock.systemUTC());
            ExecutorService pool = Executors.newFixedThreadPool(2);
            FluxSyncService service = new FluxSyncService(reconciler, List.of(repo), Clock.systemUTC(), pool);
            List<ConveyorEvent> sent = new CopyOnWriteArrayList<>();
            service.onLaterEvents(sent::addAll);
            return new Process(service, pool, sent);
        }

        void stop() throws InterruptedException {
            pool.shutdownNow();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aWaitRunningWhenTheProcessStopsIsResumedByTheNextAndItsRunGetsReleaseHealthy() throws Exception {
        BareRepo repo = repos.createBare("restart");
        PipelineRun run = PipelineRun.start("web", "https://git.example.com/acme/web.git", "ab".repeat(20), "main",
                null, Flow.CD);
        String head = SeedRepo.chart(repo.writer()).file("releases/helm/rs/web.yaml", SeedRepo.fluxHelmRelease("web",
                "rs", "shop/web:1", "")).message("promote web\n\nConveyor-Run: " + run.runId() + "\n").commit();
        RepoSpec spec = new RepoSpec("restart", repo.fileUrl(), "main", "", Duration.ofMinutes(5), true, false);

        Process first = Process.start(spec, Duration.ofSeconds(60));
        List<ConveyorEvent> now = first.service().onReleasePromoted(promoted(run, repo, head, "rs", "web"), "ce-r1");
        assertThat(now).singleElement().isInstanceOf(RepoSynced.class);
        // the wait is recorded with its run, release, revision and deadline
        Map<String, String> recorded = waits("restart");
        assertThat(recorded).hasSize(1);
        assertThat(recorded.values().iterator().next()).contains(run.runId()).contains("rs/web").contains(head)
                .contains("\"deadline\"");

        first.stop();
        // stopped, not ended: no event, and the record stays for the next process
        assertThat(first.sent()).isEmpty();
        assertThat(waits("restart")).hasSize(1);

        Process second = Process.start(spec, Duration.ofSeconds(60));
        try {
            second.service().resumeWaits();
            assertThat(second.sent()).isEmpty();
            rollOut("rs", "rs-web");
            await().atMost(Duration.ofSeconds(30)).until(() -> !second.sent().isEmpty());
            assertThat(second.sent()).singleElement().isInstanceOfSatisfying(ReleaseHealthy.class, h -> {
                assertThat(h.run().runId()).isEqualTo(run.runId());
                assertThat(h.causationId()).isEqualTo("ce-r1");
                assertThat(h.revision()).isEqualTo(head);
                assertThat(h.namespace()).isEqualTo("rs");
                assertThat(h.release()).isEqualTo("web");
                assertThat(h.workloads()).containsExactly("Deployment/rs/rs-web");
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> waits("restart").isEmpty());
            assertThat(first.sent()).isEmpty();
            // the resumed wait also wrote the release's conditions
            await().atMost(Duration.ofSeconds(10)).until(() -> String.valueOf(client.genericKubernetesResources(
                    "helm.integrations.flux.weave.works/v1alpha2", "FluxHelmRelease").inNamespace("rs").withName("web")
                    .get().getAdditionalProperties().get("status")).contains("type=Ready, status=True"));
        } finally {
            second.stop();
        }
    }

    @Test
    void aWaitWhoseDeadlinePassedWhileStoppedEndsInRolloutTimeoutAtTheNextStart() throws Exception {
        BareRepo repo = repos.createBare("late");
        PipelineRun run = PipelineRun.start("api", "https://git.example.com/acme/api.git", "cd".repeat(20), "main",
                null, Flow.CD);
        String head = SeedRepo.chart(repo.writer()).file("releases/helm/lt/api.yaml", SeedRepo.fluxHelmRelease("api",
                "lt", "shop/api:1", "")).message("promote api\n\nConveyor-Run: " + run.runId() + "\n").commit();
        RepoSpec spec = new RepoSpec("late", repo.fileUrl(), "main", "", Duration.ofMinutes(5), true, false);

        Process first = Process.start(spec, Duration.ofSeconds(3));
        first.service().onReleasePromoted(promoted(run, repo, head, "lt", "api"), "ce-l1");
        assertThat(waits("late")).hasSize(1);
        first.stop();
        assertThat(first.sent()).isEmpty();
        Instant deadline = Instant.now().plusSeconds(3);
        await().atMost(Duration.ofSeconds(10)).until(() -> Instant.now().isAfter(deadline));

        Process second = Process.start(spec, Duration.ofSeconds(3));
        try {
            second.service().resumeWaits();
            assertThat(second.sent()).singleElement().isInstanceOfSatisfying(ReleaseDegraded.class, d -> {
                assertThat(d.run().runId()).isEqualTo(run.runId());
                assertThat(d.reason()).isEqualTo("RolloutTimeout");
                assertThat(d.revision()).isEqualTo(head);
                assertThat(d.causationId()).isEqualTo("ce-l1");
            });
            assertThat(waits("late")).isEmpty();
        } finally {
            second.stop();
        }
    }

    static ReleasePromoted promoted(PipelineRun run, BareRepo repo, String commit, String ns, String release) {
        return new ReleasePromoted(run, Instant.now(), "ce-" + run.runId(), "chart1", "0.1.0", repo.fileUrl(), "prod",
                ns, release, commit, PromotionMode.AUTO, null);
    }

    static Map<String, String> waits(String repo) {
        ConfigMap cm = client.configMaps().inNamespace("conveyor").withName(HealthWaits.configMapName(repo)).get();
        return cm == null || cm.getData() == null ? Map.of() : cm.getData();
    }

    static void rollOut(String namespace, String name) {
        await().atMost(Duration.ofSeconds(30)).until(() -> client.apps().deployments().inNamespace(namespace)
                .withName(name).get() != null);
        Deployment d = client.apps().deployments().inNamespace(namespace).withName(name).get();
        int replicas = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
        d.setStatus(new DeploymentStatusBuilder().withReplicas(replicas).withUpdatedReplicas(replicas)
                .withReadyReplicas(replicas).withAvailableReplicas(replicas).build());
        client.apps().deployments().inNamespace(namespace).resource(d).updateStatus();
    }
}
