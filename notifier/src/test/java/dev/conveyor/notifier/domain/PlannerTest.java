package dev.conveyor.notifier.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.Test;

import dev.conveyor.events.v1.BuildFailed;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.TestSummary;
import dev.conveyor.notifier.testing.Runs;

class PlannerTest {

    static final String SHA = "0123456789abcdef0123456789abcdef01234567";

    final Planner planner = new Planner(Set.of("SHOP"));
    final Map<String, RunState> states = new HashMap<>();

    List<Notice> apply(ConveyorEvent e) {
        List<RunChange> changes = planner.apply(e, id -> Optional.ofNullable(states.get(id)), Instant.now());
        List<Notice> all = new ArrayList<>();
        for (RunChange c : changes) {
            states.put(c.after().runId, c.after());
            all.addAll(c.notices());
        }
        return all;
    }

    @Test
    void aPullRequestRunMovesEachStageFromPendingToSuccess() {
        List<ConveyorEvent> run = Runs.pullRequest("shop", "https://github.com/acme/shop.git", 42, SHA);

        assertThat(apply(run.get(0))).containsExactly(new Notice.StatusChanged("build", StatusState.SUCCESS),
                new Notice.StatusChanged("versioner", StatusState.PENDING), new Notice.SummaryChanged());
        assertThat(apply(run.get(1))).containsExactly(new Notice.StatusChanged("versioner", StatusState.SUCCESS),
                new Notice.StatusChanged("image-builder", StatusState.PENDING), new Notice.SummaryChanged());
        apply(run.get(2));
        assertThat(apply(run.get(3))).containsExactly(
                new Notice.StatusChanged("manifest-renderer", StatusState.SUCCESS), new Notice.SummaryChanged(),
                new Notice.Milestone());

        RunState s = states.get(run.get(0).run().runId());
        assertThat(s.diff).isEqualTo(Runs.DIFF);
        assertThat(s.imageDigest).isEqualTo(Runs.IMAGE_DIGEST);
        assertThat(s.jiraKeys).containsExactly("SHOP-12");
        assertThat(s.stages).containsOnlyKeys("build", "versioner", "image-builder", "manifest-renderer")
                .allSatisfy((k, v) -> assertThat(v).isEqualTo(StatusState.SUCCESS));
    }

    @Test
    void aBuildsTestAndLintCountsAreShownWhicheverWayItEnded() {
        List<ConveyorEvent> run = Runs.pullRequest("shop", "https://github.com/acme/shop.git", 42, SHA);
        apply(run.get(0));
        assertThat(states.get(run.get(0).run().runId()).checks)
                .isEqualTo("9 tests passed, 0 failed, 1 skipped; lint: 0 errors, 7 warnings");

        BuildSucceeded ok = (BuildSucceeded) run.get(0);
        PipelineRun second = new PipelineRun(ok.run().runId(), 2, ok.run().app(), ok.run().repoUrl(),
                ok.run().commit(), ok.run().branch(), ok.run().pullRequest(), ok.run().flow());
        BuildFailed failed = new BuildFailed(second, ok.occurredAt().plusSeconds(60), null, ok.buildUrl(), "test",
                "2 tests failed", new TestSummary(9, 2, 0, 3, 1), null);
        assertThat(apply(failed)).contains(new Notice.SummaryChanged());
        assertThat(states.get(ok.run().runId()).checks)
                .isEqualTo("9 tests passed, 2 failed, 0 skipped; lint: 3 errors, 1 warnings");
    }

    @Test
    void eventsOutOfOrderNeverTurnAFinishedStageBackToPending() {
        List<ConveyorEvent> run = Runs.pullRequest("shop", "https://github.com/acme/shop.git", 42, SHA);
        apply(run.get(1));
        List<Notice> late = apply(run.get(0));

        assertThat(late).containsExactly(new Notice.StatusChanged("build", StatusState.SUCCESS),
                new Notice.SummaryChanged());
        assertThat(states.get(run.get(0).run().runId()).stages.get("versioner")).isEqualTo(StatusState.SUCCESS);
    }

    @Test
    void aStageFailureFailsItsStatusOnceAndAReplayStartsAfresh() {
        List<ConveyorEvent> run = Runs.pullRequest("shop", "https://github.com/acme/shop.git", 42, SHA);
        apply(run.get(0));
        var failed = Runs.failed(run.get(0), Stage.VERSIONER, "UNKNOWN_COMMIT", "commit not in the repository");

        assertThat(apply(failed)).containsExactly(new Notice.StatusChanged("versioner", StatusState.FAILURE),
                new Notice.SummaryChanged(),
                new Notice.FailureSeen(new Failure("versioner", "UNKNOWN_COMMIT", "commit not in the repository")));
        assertThat(apply(failed)).isEmpty();

        var replay = new dev.conveyor.events.v1.BuildSucceeded(run.get(0).run().nextAttempt(), Runs.T0, null,
                "https://jenkins.example.com/job/shop/8/", ((dev.conveyor.events.v1.BuildSucceeded) run.get(0))
                        .artifact(),
                null, null);
        assertThat(apply(replay)).contains(new Notice.StatusChanged("versioner", StatusState.PENDING));
        assertThat(states.get(replay.run().runId()).failures).isEmpty();
    }

    @Test
    void aSyncListingTheRunDeploysItOnceAndKeysComeFromCommitSubjects() {
        List<ConveyorEvent> run = Runs.delivery("cart", "https://github.com/acme/cart.git", SHA);
        for (ConveyorEvent e : run.subList(0, 6)) {
            assertThat(apply(e)).noneMatch(n -> n instanceof Notice.Deployed);
        }
        RepoSynced synced = (RepoSynced) run.get(6);

        List<Notice> notices = apply(synced);

        assertThat(notices).filteredOn(n -> n instanceof Notice.Deployed).singleElement()
                .satisfies(n -> {
                    Deployment d = ((Notice.Deployed) n).deployment();
                    assertThat(d.environment()).isEqualTo("production");
                    assertThat(d.revision()).isEqualTo(synced.revision());
                });
        assertThat(notices).contains(new Notice.StatusChanged("flux-sync", StatusState.SUCCESS));
        assertThat(states.get(synced.run().runId()).jiraKeys).containsExactly("SHOP-7", "SHOP-8");
        assertThat(apply(synced)).isEmpty();
        assertThat(apply((ReleaseHealthy) run.get(7))).containsExactly(new Notice.SummaryChanged());
    }

    @Test
    void theAppsOwnJiraProjectReplacesThePlatformList() {
        List<ConveyorEvent> run = Runs.delivery("cart", "https://github.com/acme/cart.git", SHA);
        RunState seeded = RunState.start(run.get(0).run(), Instant.now());
        seeded.jiraProject = "OPS";
        states.put(seeded.runId, seeded);
        apply(run.get(0));
        apply(new dev.conveyor.events.v1.VersionResolved(run.get(0).run(), Runs.T0, null, "2.4.0", "v2.4.0", true,
                null, dev.conveyor.events.v1.BumpReason.MINOR, List.of("feat: SHOP-7 basket", "fix: OPS-3 alerts"),
                ((dev.conveyor.events.v1.BuildSucceeded) run.get(0)).artifact()));

        assertThat(states.get(seeded.runId).jiraKeys).containsExactly("OPS-3");
    }

    @Test
    void aSyncNamingARunNotSeenYetIsKeptAndTheRunIsAnnouncedDeployedWhenItsFactsArrive() {
        List<ConveyorEvent> cart = Runs.delivery("cart", "https://github.com/acme/cart.git", SHA);
        List<ConveyorEvent> shop = Runs.delivery("shop", "https://github.com/acme/shop.git", SHA);
        RepoSynced cartSynced = (RepoSynced) cart.get(6);
        String shopRun = shop.get(0).run().runId();
        // the revision carries both runs; this event is cart's, and shop's own events come later
        RepoSynced both = new RepoSynced(cartSynced.run(), cartSynced.occurredAt(), cartSynced.causationId(),
                cartSynced.gitopsRepo(), cartSynced.revision(), List.of(cartSynced.run().runId(), shopRun),
                cartSynced.objects());

        List<RunChange> changes = planner.apply(both, id -> Optional.ofNullable(states.get(id)), Instant.now());
        changes.forEach(c -> states.put(c.after().runId, c.after()));

        assertThat(changes).filteredOn(c -> c.after().runId.equals(shopRun)).singleElement()
                .satisfies(c -> assertThat(c.notices()).isEmpty())
                .satisfies(c -> assertThat(c.after().syncs).containsEntry(cartSynced.gitopsRepo(),
                        cartSynced.revision()));
        List<Notice> later = new ArrayList<>();
        for (ConveyorEvent e : shop.subList(0, 6)) {
            later.addAll(apply(e));
        }
        assertThat(later).filteredOn(n -> n instanceof Notice.Deployed).singleElement()
                .satisfies(n -> assertThat(((Notice.Deployed) n).deployment().revision())
                        .isEqualTo(cartSynced.revision()));
        assertThat(later).contains(new Notice.StatusChanged("flux-sync", StatusState.SUCCESS),
                new Notice.Milestone());
        assertThat(states.get(shopRun).jiraKeys).containsExactly("SHOP-7", "SHOP-8");
    }

    @Test
    void aLeftoverOfAnEarlierAttemptNeverChangesTheCurrentOne() {
        List<ConveyorEvent> run = Runs.pullRequest("shop", "https://github.com/acme/shop.git", 42, SHA);
        var replayed = new dev.conveyor.events.v1.BuildSucceeded(run.get(0).run().nextAttempt(), Runs.T0, null,
                "https://jenkins.example.com/job/shop/8/",
                ((dev.conveyor.events.v1.BuildSucceeded) run.get(0)).artifact(), null, null);
        apply(replayed);
        var leftover = Runs.failed(run.get(1), Stage.IMAGE_BUILDER, "PUSH_DENIED", "registry said no");

        assertThat(apply(leftover)).isEmpty();
        assertThat(apply(run.get(0))).containsExactly(new Notice.SummaryChanged());
        RunState s = states.get(replayed.run().runId());
        assertThat(s.attempt).isEqualTo(2);
        assertThat(s.failures).isEmpty();
        assertThat(s.stages).containsExactly(Map.entry("build", StatusState.SUCCESS),
                Map.entry("versioner", StatusState.PENDING));
        // its facts still fill the gaps the current attempt left
        assertThat(s.pullRequestTitle).isEqualTo("SHOP-12 Shopping cart");
    }
}
