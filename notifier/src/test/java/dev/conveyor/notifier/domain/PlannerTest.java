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

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.SyncSummary;
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
                new Notice.FailureSeen(new Failure("versioner", "UNKNOWN_COMMIT", "commit not in the repository")),
                new Notice.Milestone());
        assertThat(apply(failed)).containsExactly(new Notice.SummaryChanged());

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
    void aSyncOfRunsTheNotifierNeverSawChangesNothing() {
        List<ConveyorEvent> run = Runs.delivery("cart", "https://github.com/acme/cart.git", SHA);
        RepoSynced other = new RepoSynced(run.get(0).run(), Runs.T0, null, "https://git.example.com/flux.git", "abc",
                List.of("r-000000000000000000000000"), new SyncSummary(0, 0, 0, 0));

        assertThat(planner.apply(other, id -> Optional.empty(), Instant.now())).isEmpty();
    }
}
