package dev.conveyor.notifier.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.ChartPublished;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.ReleaseDegraded;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.notifier.testing.Runs;

/**
 * No order across topics is assumed: the notices for a run's events, folded in every order they could arrive in, tell
 * people the same things — the same final commit status per stage, a summary (one PR comment, one Slack message) that
 * ends showing the same state, each failure once, each deployment once with the same facts (one JIRA comment per
 * issue key) and the same milestones.
 */
class EventOrderTest {

    static final String SHA = "0123456789abcdef0123456789abcdef01234567";
    static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

    final Planner planner = new Planner(Set.of("SHOP"));

    /** What people end up seeing of a run, whatever the calls on the way. */
    record Outcome(Map<String, StatusState> statuses, List<Object> summary, List<Failure> failures,
            List<String> deployments, int milestones) {
    }

    Outcome fold(List<ConveyorEvent> order) {
        Map<String, RunState> states = new HashMap<>();
        Map<String, StatusState> statuses = new TreeMap<>();
        List<Object> summary = null;
        List<Failure> failures = new ArrayList<>();
        List<String> deployments = new ArrayList<>();
        int milestones = 0;
        for (ConveyorEvent e : order) {
            for (RunChange c : planner.apply(e, id -> Optional.ofNullable(states.get(id)), NOW)) {
                RunState s = c.after();
                states.put(s.runId, s);
                for (Notice n : c.notices()) {
                    if (n instanceof Notice.StatusChanged st) {
                        statuses.put(st.stage(), st.state());
                    } else if (n instanceof Notice.SummaryChanged) {
                        summary = shown(s);
                    } else if (n instanceof Notice.FailureSeen f) {
                        failures.add(f.failure());
                    } else if (n instanceof Notice.Deployed d) {
                        // what the JIRA comment shows, and which issues get it
                        deployments.add(d.deployment() + " " + s.app + " " + s.version + " " + s.imageRepository
                                + "@" + s.imageDigest + " " + s.buildUrl + " " + s.jiraKeys);
                    } else if (n instanceof Notice.Milestone) {
                        milestones++;
                    }
                }
            }
        }
        failures.sort(java.util.Comparator.comparing(Failure::toString));
        Collections.sort(deployments);
        return new Outcome(statuses, summary, failures, deployments, milestones);
    }

    /** What a summary (PR comment, Slack message) renders, in the order it renders it. */
    static List<Object> shown(RunState s) {
        return Arrays.asList(s.app, s.attempt, s.version, s.tag, s.imageRepository, s.imageDigest, s.chartName,
                s.chartVersion, s.diff, s.objectCount, s.warnings, s.buildUrl, s.pullRequestTitle, s.health,
                s.stages.entrySet().stream().map(e -> Map.entry(e.getKey(), e.getValue())).toList(),
                List.copyOf(s.failures), s.shownDeployments(),
                List.copyOf(s.jiraKeys));
    }

    /** Folds every permutation of {@code events}; each must give the outcome of the pipeline's own order. */
    void everyOrderGivesTheSameOutcome(List<ConveyorEvent> events, Consumer<Outcome> expected) {
        Outcome inOrder = fold(events);
        expected.accept(inOrder);
        int[] orders = {0};
        permutations(new ArrayList<>(events), 0, order -> {
            orders[0]++;
            assertThat(fold(order)).as("order %s", order.stream().map(e -> e.eventType().eventName()).toList())
                    .isEqualTo(inOrder);
        });
        assertThat(orders[0]).isEqualTo(factorial(events.size()));
    }

    static void permutations(List<ConveyorEvent> list, int from, Consumer<List<ConveyorEvent>> each) {
        if (from == list.size()) {
            each.accept(list);
            return;
        }
        for (int i = from; i < list.size(); i++) {
            Collections.swap(list, from, i);
            permutations(list, from + 1, each);
            Collections.swap(list, from, i);
        }
    }

    static int factorial(int n) {
        return n <= 1 ? 1 : n * factorial(n - 1);
    }

    @Test
    void aDeliveryRunIsDeployedAndAnnouncedOnceInEveryOrderOfItsEightEvents() {
        List<ConveyorEvent> run = Runs.delivery("cart", "https://github.com/acme/cart.git", SHA);

        everyOrderGivesTheSameOutcome(run, o -> {
            assertThat(o.statuses()).containsOnlyKeys("build", "versioner", "image-builder", "manifest-renderer",
                    "promoter", "flux-sync").allSatisfy((k, v) -> assertThat(v).isEqualTo(StatusState.SUCCESS));
            assertThat(o.deployments()).singleElement().asString().contains("production", "2.4.0",
                    "[SHOP-7, SHOP-8]");
            assertThat(o.summary()).contains("healthy");
            assertThat(o.milestones()).isEqualTo(1);
            assertThat(o.failures()).isEmpty();
        });
    }

    @Test
    void aDegradedDeliveryRunFailsFluxSyncOnceInASeededSampleOfOrders() {
        List<ConveyorEvent> run = new ArrayList<>(Runs.delivery("cart", "https://github.com/acme/cart.git", SHA));
        RepoSynced synced = (RepoSynced) run.get(6);
        run.set(7, new ReleaseDegraded(synced.run(), synced.occurredAt().plusSeconds(300), Runs.id(synced),
                synced.gitopsRepo(), synced.revision(), "shop", "cart", "RolloutTimeout",
                "Deployment/cart not ready after 300s"));

        Outcome inOrder = fold(run);
        assertThat(inOrder.statuses()).containsEntry("flux-sync", StatusState.FAILURE);
        assertThat(inOrder.failures()).singleElement().extracting(Failure::reason).isEqualTo("RolloutTimeout");
        assertThat(inOrder.deployments()).hasSize(1);
        assertThat(inOrder.summary()).contains("degraded");
        // all 40320 orders are covered for the healthy run; a seeded sample here
        Random random = new Random(14L);
        for (int i = 0; i < 5000; i++) {
            List<ConveyorEvent> order = new ArrayList<>(run);
            Collections.shuffle(order, random);
            assertThat(fold(order)).as("order %s", order.stream().map(e -> e.eventType().eventName()).toList())
                    .isEqualTo(inOrder);
        }
    }

    @Test
    void aPullRequestRunEndsOnceInEveryOrder() {
        List<ConveyorEvent> run = Runs.pullRequest("shop", "https://github.com/acme/shop.git", 42, SHA);

        everyOrderGivesTheSameOutcome(run, o -> {
            assertThat(o.statuses()).containsOnlyKeys("build", "versioner", "image-builder", "manifest-renderer")
                    .allSatisfy((k, v) -> assertThat(v).isEqualTo(StatusState.SUCCESS));
            assertThat(o.milestones()).isEqualTo(1);
            assertThat(o.deployments()).isEmpty();
        });
    }

    @Test
    void aFailedPullRequestRunShowsItsFailureOnceInEveryOrder() {
        List<ConveyorEvent> run = new ArrayList<>(
                Runs.pullRequest("shop", "https://github.com/acme/shop.git", 42, SHA).subList(0, 3));
        run.add(Runs.failed(run.get(2), Stage.MANIFEST_RENDERER, "INVALID_MANIFEST", "Deployment/shop: unknown field"));
        run.add(Runs.failed(run.get(2), Stage.MANIFEST_RENDERER, "SCHEMA_MISSING", "no schema for Widget"));

        everyOrderGivesTheSameOutcome(run, o -> {
            assertThat(o.statuses()).containsEntry("manifest-renderer", StatusState.FAILURE);
            assertThat(o.failures()).hasSize(2);
            assertThat(o.milestones()).isZero();
        });
    }

    @Test
    void aReplayInterleavedWithItsFirstAttemptEndsAsTheReplayInARandomSampleOfOrders() {
        List<ConveyorEvent> first = Runs.delivery("cart", "https://github.com/acme/cart.git", SHA);
        List<ConveyorEvent> attempt1 = new ArrayList<>(first.subList(0, 2));
        attempt1.add(Runs.failed(first.get(1), Stage.IMAGE_BUILDER, "PUSH_DENIED", "registry said no"));
        List<ConveyorEvent> attempt2 = first.stream().map(EventOrderTest::nextAttempt).toList();
        List<ConveyorEvent> all = new ArrayList<>(attempt1);
        all.addAll(attempt2);
        Outcome inOrder = fold(all);
        Outcome replayAlone = fold(attempt2);
        assertThat(inOrder.statuses()).isEqualTo(replayAlone.statuses());
        assertThat(inOrder.summary()).isEqualTo(replayAlone.summary());
        assertThat(inOrder.deployments()).isEqualTo(replayAlone.deployments()).hasSize(1);

        Random random = new Random(20260301L);
        for (int i = 0; i < 3000; i++) {
            List<ConveyorEvent> order = new ArrayList<>(all);
            Collections.shuffle(order, random);
            Outcome o = fold(order);
            String as = "order " + order.stream().map(e -> e.eventType().eventName() + "#" + e.run().attempt())
                    .toList();
            assertThat(o.statuses()).as(as).isEqualTo(inOrder.statuses());
            assertThat(o.summary()).as(as).isEqualTo(inOrder.summary());
            assertThat(o.deployments()).as(as).isEqualTo(inOrder.deployments());
            // the first attempt's failure is told only if it arrived while its attempt was the latest
            assertThat(new LinkedHashSet<>(o.failures())).as(as).isSubsetOf(inOrder.failures());
        }
    }

    static ConveyorEvent nextAttempt(ConveyorEvent e) {
        var run = e.run().nextAttempt();
        if (e instanceof BuildSucceeded b) {
            return new BuildSucceeded(run, b.occurredAt(), b.causationId(), b.buildUrl(), b.artifact(), b.tests(),
                    b.pullRequestTitle());
        } else if (e instanceof VersionResolved v) {
            return new VersionResolved(run, v.occurredAt(), v.causationId(), v.version(), v.tag(), v.taggedNow(),
                    v.previousVersion(), v.bump(), v.changes(), v.artifact());
        } else if (e instanceof ImagePushed i) {
            return new ImagePushed(run, i.occurredAt(), i.causationId(), i.version(), i.repository(), i.tags(),
                    i.digest(), i.sizeBytes());
        } else if (e instanceof ManifestsValidated m) {
            return new ManifestsValidated(run, m.occurredAt(), m.causationId(), m.version(), m.imageRepository(),
                    m.imageDigest(), m.chartName(), m.chartPath(), m.manifestsCommit(), m.objectCount(),
                    m.renderedDigest(), m.diff(), m.warnings());
        } else if (e instanceof ChartPublished c) {
            return new ChartPublished(run, c.occurredAt(), c.causationId(), c.chartName(), c.chartVersion(),
                    c.chartDigest(), c.repositories(), c.imageRepository(), c.imageDigest());
        } else if (e instanceof ReleasePromoted r) {
            return new ReleasePromoted(run, r.occurredAt(), r.causationId(), r.chartName(), r.chartVersion(),
                    r.gitopsRepo(), r.environment(), r.namespace(), r.release(), r.gitopsCommit(), r.mode(),
                    r.pullRequestUrl());
        } else if (e instanceof RepoSynced r) {
            return new RepoSynced(run, r.occurredAt(), r.causationId(), r.gitopsRepo(), r.revision(), r.runIds(),
                    r.objects());
        } else if (e instanceof ReleaseHealthy h) {
            return new ReleaseHealthy(run, h.occurredAt(), h.causationId(), h.gitopsRepo(), h.revision(),
                    h.namespace(), h.release(), h.workloads());
        }
        throw new IllegalArgumentException(e.eventType().eventName());
    }
}
