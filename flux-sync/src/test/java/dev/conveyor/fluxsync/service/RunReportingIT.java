package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.conveyor.events.v1.CloudEventAttributes;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.PromotionMode;
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
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Which runs a sync reports, across the crash window between applying a revision and the broker acknowledging its
 * {@code RepoSynced}: a process is "killed" by dropping it and building a new reconciler and service (new mirror, new
 * memory) over the same API stand-in and git repository; a send that never completes or fails is a {@code published}
 * stage that never completes or completes exceptionally. Every report of one run reaching one repository must have
 * the same CloudEvents id and name the run.
 */
class RunReportingIT {

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
        work = Files.createTempDirectory("flux-sync-reporting-it");
    }

    @AfterAll
    static void stop() {
        access.close();
        repos.close();
        kube.close();
    }

    /** A new process: its own mirror, Kubernetes client, reconciler and service; nothing in memory. */
    static FluxSyncService process(RepoSpec repo) {
        RepoReconciler reconciler = new RepoReconciler(new RepoMirrors(work.resolve("mirrors-" + System.nanoTime()),
                access), new KubeCluster(kube.newClient(), "conveyor-flux-sync"),
                new ChartRenderer(work.resolve(
                        "work")),
                new RepoReconciler.Settings("charts", "conveyor", Duration.ofMillis(200), Duration.ofMillis(50), work
                        .resolve("work")),
                new SimpleMeterRegistry(), Clock.systemUTC());
        return new FluxSyncService(reconciler, List.of(repo), Clock.systemUTC());
    }

    static PipelineRun run(String app) {
        return PipelineRun.start(app, "https://git.example.com/acme/" + app + ".git", "ab".repeat(20), "main", null,
                Flow.CD);
    }

    /** Commits a ConfigMap manifest for the run into namespace {@code ns}, with the run's trailer. */
    static String promote(BareRepo repo, String ns, PipelineRun run) {
        return repo.writer().file("releases/manifests/" + ns + "/" + run.app() + ".yaml", SeedRepo.configMap(run.app(),
                "1")).message(run.app() + " to prod\n\nConveyor-Run: " + run.runId() + "\n").commit();
    }

    static ReleasePromoted promoted(PipelineRun run, BareRepo repo, String commit, String ns) {
        return new ReleasePromoted(run, Instant.now(), "ce-" + run.runId(), "chart1", "0.1.0", repo.fileUrl(), "prod",
                ns, run.app(), commit, PromotionMode.AUTO, null);
    }

    static RepoSpec spec(String name, BareRepo repo) {
        return new RepoSpec(name, repo.fileUrl(), "main", "", Duration.ofMinutes(5), true, false);
    }

    static CompletableFuture<Void> acked() {
        return CompletableFuture.completedFuture(null);
    }

    static List<RepoSynced> synced(List<ConveyorEvent> events, PipelineRun run) {
        return events.stream().filter(e -> e instanceof RepoSynced && e.run().runId().equals(run.runId())).map(
                RepoSynced.class::cast).toList();
    }

    static String id(ConveyorEvent e) {
        return CloudEventAttributes.idOf(e);
    }

    /** The revision recorded as reported, "" when nothing was reported yet, null without a record. */
    static String reported(String repo) {
        ConfigMap cm = client.configMaps().inNamespace("conveyor").withName(ReportedRevisions.configMapName(repo))
                .get();
        return cm == null || cm.getData() == null ? null : cm.getData().get(ReportedRevisions.KEY);
    }

    @Test
    void aRunAppliedButNotReportedBeforeACrashIsReportedByTheRedeliveredPromotionWithTheSameId() {
        BareRepo repo = repos.createBare("crash-promotion");
        RepoSpec spec = spec("crash-promotion", repo);
        PipelineRun x = run("xa");
        String headX = promote(repo, "cp", x);

        // the first process applies the revision, then dies before the broker acknowledged its RepoSynced
        List<ConveyorEvent> lost = process(spec).onReleasePromoted(promoted(x, repo, headX, "cp"), "ce-x",
                new CompletableFuture<>());
        RepoSynced lostSynced = synced(lost, x).get(0);
        assertThat(client.configMaps().inNamespace("cp").withName("xa").get()).isNotNull();
        assertThat(reported("crash-promotion")).isEmpty();

        // another run lands before the promotion is redelivered to the next process
        PipelineRun y = run("ya");
        String headY = promote(repo, "cp", y);
        FluxSyncService second = process(spec);
        List<ConveyorEvent> again = second.onReleasePromoted(promoted(x, repo, headX, "cp"), "ce-x", acked());

        assertThat(synced(again, x)).singleElement().satisfies(s -> {
            assertThat(id(s)).isEqualTo(id(lostSynced));
            assertThat(s.runIds()).containsExactly(x.runId(), y.runId());
            assertThat(s.revision()).isEqualTo(headY);
        });
        // acknowledged: the revision is recorded, and the next sync reports nothing again
        assertThat(reported("crash-promotion")).isEqualTo(headY);
        assertThat(second.syncRepo(spec)).isEmpty();
    }

    @Test
    void aRunAppliedButNotReportedBeforeACrashIsReportedWithTheSameIdWhenAPollComesFirst() {
        BareRepo repo = repos.createBare("crash-poll");
        RepoSpec spec = spec("crash-poll", repo);
        PipelineRun x = run("xb");
        String headX = promote(repo, "cq", x);
        List<ConveyorEvent> lost = process(spec).onReleasePromoted(promoted(x, repo, headX, "cq"), "ce-x",
                new CompletableFuture<>());
        PipelineRun y = run("yb");
        promote(repo, "cq", y);

        FluxSyncService second = process(spec);
        // the interval sync of the new process comes first: it does not know the runs yet
        assertThat(second.syncRepo(spec)).isEmpty();
        List<ConveyorEvent> again = second.onReleasePromoted(promoted(x, repo, headX, "cq"), "ce-x", acked());

        assertThat(synced(again, x)).singleElement().satisfies(s -> {
            assertThat(id(s)).isEqualTo(id(synced(lost, x).get(0)));
            assertThat(s.runIds()).contains(x.runId());
        });
    }

    @Test
    void aFailedSendIsReportedAgainByTheNextPollOfTheSameProcessWithTheSameId() {
        BareRepo repo = repos.createBare("send-failed");
        RepoSpec spec = spec("send-failed", repo);
        PipelineRun x = run("xc");
        String headX = promote(repo, "cr", x);
        FluxSyncService service = process(spec);

        CompletableFuture<Void> failed = new CompletableFuture<>();
        List<ConveyorEvent> first = service.onReleasePromoted(promoted(x, repo, headX, "cr"), "ce-x", failed);
        failed.completeExceptionally(new IllegalStateException("broker unavailable"));
        assertThat(reported("send-failed")).isEmpty();

        List<ConveyorEvent> poll = service.syncRepo(spec, acked());
        assertThat(synced(poll, x)).singleElement().satisfies(s -> {
            assertThat(id(s)).isEqualTo(id(synced(first, x).get(0)));
            assertThat(s.runIds()).containsExactly(x.runId());
        });
        // the health event of the run, reported again too, has the same id as well
        assertThat(poll).filteredOn(e -> !(e instanceof RepoSynced)).extracting(RunReportingIT::id)
                .isEqualTo(first.stream().filter(e -> !(e instanceof RepoSynced)).map(RunReportingIT::id).toList());
        assertThat(reported("send-failed")).isEqualTo(headX);
        assertThat(service.syncRepo(spec, acked())).isEmpty();
    }

    @Test
    void aPromotionAndPollsThatAllSeeTheRunsRevisionReportOneIdForTheRun() {
        BareRepo repo = repos.createBare("one-id");
        RepoSpec spec = spec("one-id", repo);
        PipelineRun x = run("xd");
        String headX = promote(repo, "cs", x);
        List<ConveyorEvent> all = new ArrayList<>();

        FluxSyncService first = process(spec);
        CompletableFuture<Void> inFlight = new CompletableFuture<>();
        all.addAll(first.onReleasePromoted(promoted(x, repo, headX, "cs"), "ce-x", inFlight));
        // a poll while the promotion's RepoSynced is not acknowledged yet reports the run again
        all.addAll(first.syncRepo(spec, acked()));
        inFlight.complete(null);
        await().atMost(Duration.ofSeconds(10)).until(() -> headX.equals(reported("one-id")));

        // the process dies after the RepoSynced was acknowledged but before the promotion's offset was committed;
        // a later revision is synced by the next process's poll before the promotion comes back
        PipelineRun y = run("yd");
        String headY = promote(repo, "cs", y);
        FluxSyncService second = process(spec);
        all.addAll(second.syncRepo(spec, acked()));
        all.addAll(second.onReleasePromoted(promoted(x, repo, headX, "cs"), "ce-x", acked()));

        List<RepoSynced> reports = synced(all, x);
        assertThat(reports).hasSizeGreaterThanOrEqualTo(2).allSatisfy(s -> assertThat(s.runIds()).contains(x
                .runId()));
        assertThat(reports).extracting(RunReportingIT::id).containsOnly(id(reports.get(0)));
        assertThat(reports.get(reports.size() - 1).revision()).isEqualTo(headY);
    }

    @Test
    void twoPromotionsInOneRevisionAreEachReportedOnceWithTheirOwnIdAcrossACrash() {
        BareRepo repo = repos.createBare("two-runs");
        RepoSpec spec = spec("two-runs", repo);
        PipelineRun one = run("one");
        PipelineRun two = run("two");
        String headOne = promote(repo, "ct", one);
        String headTwo = promote(repo, "ct", two);

        List<ConveyorEvent> lost = process(spec).onReleasePromoted(promoted(one, repo, headOne, "ct"), "ce-1",
                new CompletableFuture<>());
        assertThat(synced(lost, one)).singleElement().satisfies(s -> assertThat(s.runIds()).containsExactly(one
                .runId(), two.runId()));
        assertThat(synced(lost, two)).isEmpty();

        // after the restart the second promotion is consumed first, then the first one is redelivered
        FluxSyncService second = process(spec);
        List<ConveyorEvent> forTwo = second.onReleasePromoted(promoted(two, repo, headTwo, "ct"), "ce-2", acked());
        List<ConveyorEvent> forOne = second.onReleasePromoted(promoted(one, repo, headOne, "ct"), "ce-1", acked());

        assertThat(synced(forTwo, one)).isEmpty();
        assertThat(synced(forTwo, two)).singleElement().satisfies(s -> assertThat(s.runIds()).contains(two.runId()));
        assertThat(synced(forOne, two)).isEmpty();
        assertThat(synced(forOne, one)).singleElement().satisfies(s -> {
            assertThat(id(s)).isEqualTo(id(synced(lost, one).get(0)));
            assertThat(s.runIds()).contains(one.runId());
        });
        assertThat(id(synced(forOne, one).get(0))).isNotEqualTo(id(synced(forTwo, two).get(0)));
    }

    @Test
    void afterAForcePushTheRunsSinceTheCommonAncestorAreDeliveredAndAnUnknownRevisionBoundsTheWalk()
            throws Exception {
        BareRepo repo = repos.createBare("force-push");
        RepoSpec spec = spec("force-push", repo);
        PipelineRun base = run("base");
        PipelineRun gone = run("gone");
        PipelineRun kept = run("kept");
        String baseHead = promote(repo, "cu", base);
        setBranch(repo, "rewrite", baseHead, false);
        String goneHead = promote(repo, "cu", gone);
        RepoReconciler reconciler = process(spec).reconciler();
        SyncResult before = reconciler.sync(spec, java.util.Set.of());
        assertThat(before.runIds()).containsExactly(base.runId(), gone.runId());
        reconciler.reported(before);
        assertThat(reported("force-push")).isEqualTo(goneHead);

        // main is rewritten: "gone" leaves the branch, "kept" is committed on the common ancestor
        String keptHead = repo.writer().branch("rewrite").file("releases/manifests/cu/kept.yaml", SeedRepo.configMap(
                "kept", "1")).message("kept\n\nConveyor-Run: " + kept.runId() + "\n").commit();
        setBranch(repo, "main", keptHead, true);
        SyncResult after = reconciler.sync(spec, java.util.Set.of());
        assertThat(after.revision()).isEqualTo(keptHead);
        assertThat(after.runIds()).containsExactly(kept.runId());

        // a reported revision the repository does not have (e.g. force-pushed away before a new mirror was made):
        // every commit of the branch, at most MAX_COMMITS of them
        client.configMaps().inNamespace("conveyor").resource(new ConfigMapBuilder().withNewMetadata().withName(
                ReportedRevisions.configMapName("force-push")).withNamespace("conveyor").endMetadata().addToData(
                        ReportedRevisions.KEY, "12".repeat(20))
                .build()).createOr(io.fabric8.kubernetes.client.dsl.NonDeletingOperation::update);
        assertThat(process(spec).reconciler().sync(spec, java.util.Set.of()).runIds()).containsExactly(base.runId(),
                kept.runId());
    }

    static void setBranch(BareRepo repo, String branch, String commit, boolean force) throws Exception {
        try (Repository db = repo.open()) {
            RefUpdate update = db.updateRef("refs/heads/" + branch);
            update.setNewObjectId(ObjectId.fromString(commit));
            update.setForceUpdate(force);
            RefUpdate.Result result = update.update();
            assertThat(result).isIn(RefUpdate.Result.NEW, RefUpdate.Result.FORCED, RefUpdate.Result.FAST_FORWARD);
        }
    }
}
