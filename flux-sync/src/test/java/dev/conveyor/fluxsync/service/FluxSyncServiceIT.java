package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.marcnuri.helm.Helm;
import com.sun.net.httpserver.HttpServer;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.PromotionMode;
import dev.conveyor.events.v1.ReleaseDegraded;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.fluxsync.ServedFiles;
import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.stage.FailureKind;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The stage's run bookkeeping with a real reconciler, git repositories and the API stand-in: runs delivered before
 * their promotion arrived, promotions for other instances' repositories, commits not on the branch yet; and a chart
 * from a classic Helm repository served over HTTP.
 */
class FluxSyncServiceIT {

    static KubernetesApiStandIn kube;
    static GitRepos repos;
    static GitAccess access;
    static Path work;
    static RepoReconciler reconciler;

    @BeforeAll
    static void start() throws Exception {
        kube = KubernetesApiStandIn.start();
        repos = new GitRepos();
        access = GitAccess.create(GitCredentials.none());
        work = Files.createTempDirectory("flux-sync-service-it");
        reconciler = new RepoReconciler(new RepoMirrors(work.resolve("mirrors"), access), new KubeCluster(kube
                .newClient(), "conveyor-flux-sync"), new ChartRenderer(work.resolve("work")),
                new RepoReconciler.Settings("charts", "conveyor", Duration.ofMillis(200), Duration.ofMillis(50), work
                        .resolve("work")),
                new SimpleMeterRegistry(), Clock.systemUTC());
    }

    @AfterAll
    static void stop() {
        access.close();
        repos.close();
        kube.close();
    }

    static ReleasePromoted promoted(PipelineRun run, BareRepo repo, String commit, String ns, String release) {
        return new ReleasePromoted(run, Instant.now(), "ce-" + run.runId(), "chart1", "0.1.0", repo.fileUrl(), "prod",
                ns, release, commit, PromotionMode.AUTO, null);
    }

    @Test
    void aRunSyncedByAnIntervalBeforeItsPromotionArrivedIsReportedWhenItArrives() {
        BareRepo repo = repos.createBare("early");
        PipelineRun run = PipelineRun.start("early", "https://git.example.com/acme/early.git", "ef".repeat(20), "main",
                null, Flow.CD);
        String head = repo.writer().file("releases/manifests/early/cm.yaml", SeedRepo.configMap("cm", "1"))
                .message("promote\n\nConveyor-Run: " + run.runId() + "\n").commit();
        RepoSpec spec = new RepoSpec("early", repo.fileUrl() + "/", "main", "", Duration.ofMinutes(5), true,
                false);
        FluxSyncService service = new FluxSyncService(reconciler, List.of(spec), Clock.systemUTC());

        assertThat(service.syncRepo(spec)).isEmpty();
        List<ConveyorEvent> events = service.onReleasePromoted(promoted(run, repo, head, "early", "cm"), "ce-1");

        assertThat(events).hasSize(2);
        RepoSynced synced = (RepoSynced) events.get(0);
        assertThat(synced.revision()).isEqualTo(head);
        assertThat(synced.runIds()).containsExactly(run.runId());
        assertThat(synced.objects().created()).isEqualTo(1);
        assertThat(synced.causationId()).isEqualTo("ce-1");
        // a plain manifest is not a release: the promotion named a release the repository does not have
        assertThat(((ReleaseDegraded) events.get(1)).reason()).isEqualTo("ReleaseNotFound");

        // a replay of the same promotion after the fact still answers
        assertThat(service.onReleasePromoted(promoted(run, repo, head, "early", "cm"), "ce-2")).first()
                .isInstanceOf(RepoSynced.class);
    }

    @Test
    void promotionsForOtherRepositoriesAreIgnoredAndACommitNotOnTheBranchIsNotReady() {
        BareRepo repo = repos.createBare("other");
        String head = repo.writer().file("README.md", "x").message("init").commit();
        RepoSpec spec = new RepoSpec("other", repo.fileUrl(), "main", "", Duration.ofMinutes(5), true, false);
        FluxSyncService service = new FluxSyncService(reconciler, List.of(spec), Clock.systemUTC());
        PipelineRun run = PipelineRun.start("other", "https://git.example.com/acme/other.git", "12".repeat(20), "main",
                null, Flow.CD);

        BareRepo elsewhere = repos.createBare("elsewhere");
        assertThat(service.onReleasePromoted(promoted(run, elsewhere, head, "a", "b"), null)).isEmpty();

        assertThatThrownBy(() -> service.onReleasePromoted(promoted(run, repo, "34".repeat(20), "a", "b"), null))
                .isInstanceOfSatisfying(StageException.class, e -> {
                    assertThat(e.kind()).isEqualTo(FailureKind.NOT_READY);
                    assertThat(e.reason()).isEqualTo("COMMIT_NOT_ON_BRANCH");
                });
    }

    @Test
    void aChartFromAHelmRepositoryIsDownloadedThroughItsIndexAndRendered() throws Exception {
        Path chartDir = work.resolve("src/chart1");
        Files.createDirectories(chartDir.resolve("templates"));
        Files.writeString(chartDir.resolve("Chart.yaml"), SeedRepo.CHART);
        Files.writeString(chartDir.resolve("values.yaml"), SeedRepo.CHART_VALUES);
        Files.writeString(chartDir.resolve("templates/deployment.yaml"), SeedRepo.CHART_DEPLOYMENT);
        Path served = Files.createDirectories(work.resolve("served"));
        new Helm(chartDir).packageIt().withDestination(served).call();
        Files.writeString(served.resolve("index.yaml"), """
                apiVersion: v1
                entries:
                  chart1:
                    - name: chart1
                      version: 0.1.0
                      urls: [chart1-0.1.0.tgz]
                """);
        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        http.createContext("/", exchange -> {
            ServedFiles.send(exchange, served);
        });
        http.start();
        try {
            BareRepo repo = repos.createBare("helm-repo");
            repo.writer().file("releases/helm/hr/podinfo.yaml", """
                    apiVersion: helm.fluxcd.io/v1
                    kind: HelmRelease
                    metadata:
                      name: podinfo
                    spec:
                      releaseName: podinfo
                      chart:
                        repository: http://127.0.0.1:%d/
                        name: chart1
                        version: 0.1.0
                      values:
                        image: example/podinfo:6
                    """.formatted(http.getAddress().getPort())).message("remote chart").commit();
            SyncResult r = reconciler.sync(new RepoSpec("helmrepo", repo.fileUrl(), "main", "", Duration.ofMinutes(5),
                    true, false), Set.of());
            assertThat(r.problems()).isEmpty();
            assertThat(kube.client().apps().deployments().inNamespace("hr").withName("podinfo").get().getSpec()
                    .getTemplate().getSpec().getContainers().get(0).getImage()).isEqualTo("example/podinfo:6");
        } finally {
            http.stop(0);
        }
    }
}
