package dev.conveyor.gateway.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import dev.conveyor.events.v1.BuildFailed;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.CloudEventAttributes;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.EventType;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.TestSummary;
import dev.conveyor.gateway.domain.Views.RunView;
import dev.conveyor.gateway.domain.Views.Status;
import dev.conveyor.gateway.domain.Views.StepView;
import dev.conveyor.gateway.support.RunEvents;

class RunTimelineTest {

    static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");

    static RecordedEvent recorded(ConveyorEvent event) {
        return new RecordedEvent(CloudEventAttributes.idOf(event), RunEvents.sourceOf(event), event);
    }

    static RecordedEvent replayed(ConveyorEvent event) {
        return new RecordedEvent(CloudEventAttributes.idOf(event), RecordedEvent.GATEWAY_SOURCE, event);
    }

    static RunView fold(List<RecordedEvent> events) {
        RunTimeline timeline = new RunTimeline(events.get(0).event().run().runId());
        events.forEach(timeline::apply);
        return timeline.view(true);
    }

    static StepView step(RunView view, String id) {
        return view.steps().stream().filter(s -> s.id().equals(id)).findFirst().orElseThrow();
    }

    @Test
    void aFullCdRunHasEveryStepGreenWithDurationsAndLinks() {
        RunEvents run = RunEvents.cd("shop", 1, T0);
        RunView view = fold(run.all().stream().map(RunTimelineTest::recorded).toList());

        assertThat(view.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(view.attempt()).isEqualTo(1);
        assertThat(view.app()).isEqualTo("shop");
        assertThat(view.durationMillis()).isEqualTo(30_000);
        assertThat(view.steps()).extracting(StepView::id).containsExactly("build", "versioner", "image-builder",
                "manifest-renderer", "promoter", "flux-sync");
        assertThat(view.steps()).allSatisfy(s -> {
            assertThat(s.status()).isEqualTo(Status.SUCCEEDED);
            assertThat(s.runs()).isEqualTo(1);
        });
        assertThat(step(view, "versioner").durationMillis()).isEqualTo(2_000);
        assertThat(step(view, "versioner").detail()).isEqualTo("1.3.0 (tag v1.3.0)");
        assertThat(step(view, "image-builder").durationMillis()).isEqualTo(3_000);
        assertThat(step(view, "manifest-renderer").durationMillis()).isEqualTo(4_000);
        assertThat(step(view, "promoter").durationMillis()).isEqualTo(5_000);
        assertThat(step(view, "flux-sync").durationMillis()).isEqualTo(16_000);
        assertThat(step(view, "build").durationMillis()).isNull();
        assertThat(view.links()).extracting(Views.Link::rel).contains("commit", "build", "artifact", "image",
                "manifests-commit", "chart", "gitops-commit");
        assertThat(view.links()).filteredOn(l -> l.rel().equals("commit")).singleElement()
                .satisfies(l -> assertThat(l.href())
                        .isEqualTo("https://git.example.com/org/shop/commit/" + RunEvents.commit(1)));
        assertThat(view.links()).filteredOn(l -> l.rel().equals("gitops-commit")).singleElement()
                .satisfies(l -> assertThat(l.href()).startsWith("https://git.example.com/org/flux-prod/commit/"));
        assertThat(view.events()).hasSize(8);
    }

    @Test
    void theBuildStepShowsTheHooksTestAndLintCounts() {
        RunEvents run = RunEvents.cd("shop", 11, T0);
        BuildSucceeded ok = run.build();
        BuildSucceeded counted = new BuildSucceeded(ok.run(), ok.occurredAt(), null, ok.buildUrl(), ok.artifact(),
                new TestSummary(9, 0, 1, 0, 7), null);
        assertThat(step(fold(List.of(recorded(counted))), "build").detail())
                .isEqualTo("9 tests passed, 0 failed, 1 skipped; lint: 0 errors, 7 warnings");

        BuildFailed failed = new BuildFailed(ok.run(), ok.occurredAt(), null, ok.buildUrl(), "test",
                "2 tests failed", new TestSummary(9, 2, 0, 3, 1), null);
        assertThat(step(fold(List.of(recorded(failed))), "build").detail())
                .isEqualTo("test: 2 tests failed — 9 tests passed, 2 failed, 0 skipped; lint: 3 errors, 1 warnings");

        BuildFailed bare = new BuildFailed(ok.run(), ok.occurredAt(), null, ok.buildUrl(), "checkout",
                "no such branch", null, null);
        assertThat(step(fold(List.of(recorded(bare))), "build").detail()).isEqualTo("checkout: no such branch");
    }

    @Test
    void aRunInProgressShowsTheRunningStepAndThePendingOnes() {
        RunEvents run = RunEvents.cd("shop", 2, T0);
        RunView view = fold(List.of(recorded(run.build()), recorded(run.version())));

        assertThat(view.status()).isEqualTo(Status.RUNNING);
        assertThat(step(view, "image-builder").status()).isEqualTo(Status.RUNNING);
        assertThat(step(view, "image-builder").startedAt()).isEqualTo(run.version().occurredAt());
        assertThat(step(view, "manifest-renderer").status()).isEqualTo(Status.PENDING);
    }

    @Test
    void aPullRequestRunEndsAfterTheManifestsAndSkipsPromotion() {
        RunEvents run = RunEvents.ci("shop", 3, T0);
        RunView view = fold(run.all().stream().map(RunTimelineTest::recorded).toList());

        assertThat(view.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(step(view, "promoter").status()).isEqualTo(Status.SKIPPED);
        assertThat(step(view, "flux-sync").status()).isEqualTo(Status.SKIPPED);
        assertThat(view.links()).filteredOn(l -> l.rel().equals("pull-request")).singleElement()
                .satisfies(l -> assertThat(l.href()).isEqualTo("https://git.example.com/org/shop/pull/7"));
    }

    @Test
    void aFailureThenAReplayRunsTheFailedStepAgainAsTheNextAttempt() {
        RunEvents run = RunEvents.cd("shop", 4, T0);
        List<RecordedEvent> events = new ArrayList<>(List.of(recorded(run.build()), recorded(run.version()),
                recorded(run.failed(Stage.IMAGE_BUILDER, 4))));
        RunView failed = fold(events);
        assertThat(failed.status()).isEqualTo(Status.FAILED);
        assertThat(step(failed, "image-builder").status()).isEqualTo(Status.FAILED);
        assertThat(step(failed, "image-builder").detail()).isEqualTo("REGISTRY_DENIED: push refused");
        assertThat(step(failed, "image-builder").durationMillis()).isEqualTo(2_000);

        events.add(replayed(Replays.withAttempt(run.version(), 2, T0.plusSeconds(102))));
        RunView replaying = fold(events);
        assertThat(replaying.status()).isEqualTo(Status.RUNNING);
        assertThat(replaying.attempt()).isEqualTo(2);
        assertThat(step(replaying, "versioner").status()).isEqualTo(Status.SUCCEEDED);
        assertThat(step(replaying, "versioner").attempt()).isEqualTo(1);
        assertThat(step(replaying, "image-builder").status()).isEqualTo(Status.RUNNING);
        assertThat(step(replaying, "image-builder").attempt()).isEqualTo(2);
        assertThat(step(replaying, "image-builder").detail()).isNull();
        assertThat(replaying.events()).filteredOn(Views.EventView::replay).hasSize(1);

        RunEvents second = run.again(2, T0.plusSeconds(100));
        for (ConveyorEvent later : List.of(second.image(), second.manifests(), second.chart(),
                second.promoted("prod"), second.synced(), second.healthy())) {
            events.add(recorded(later));
        }
        RunView done = fold(events);
        assertThat(done.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(step(done, "image-builder").runs()).isEqualTo(2);
        assertThat(step(done, "image-builder").durationMillis()).isEqualTo(3_000);
        assertThat(step(done, "flux-sync").attempt()).isEqualTo(2);
    }

    @Test
    void theFoldDoesNotDependOnTheOrderTopicsAreReadInNorOnDuplicates() {
        RunEvents run = RunEvents.cd("shop", 5, T0);
        List<RecordedEvent> events = new ArrayList<>(run.all().stream().map(RunTimelineTest::recorded).toList());
        RunEvents second = run.again(2, T0.plusSeconds(100));
        events.add(replayed(second.image()));
        events.add(recorded(second.manifests()));
        events.add(recorded(second.failed(Stage.PROMOTER, 12)));
        RunView expected = fold(events);
        assertThat(expected.status()).isEqualTo(Status.FAILED);
        assertThat(step(expected, "promoter").status()).isEqualTo(Status.FAILED);
        assertThat(step(expected, "flux-sync").status()).isEqualTo(Status.PENDING);

        Random random = new Random(42);
        for (int i = 0; i < 50; i++) {
            List<RecordedEvent> shuffled = new ArrayList<>(events);
            shuffled.add(events.get(random.nextInt(events.size())));
            Collections.shuffle(shuffled, random);
            assertThat(fold(shuffled)).as("order %s", shuffled.stream().map(e -> e.type().eventName()).toList())
                    .isEqualTo(expected);
        }
    }

    @Test
    void aStepWithSeveralOutputsShowsTheLatestWhateverTheOrder() {
        // ChartPublished and every ReleasePromoted finish the promoter step: a replica that folds a run again from its
        // stored events (in event-id order) must show what one that read the topics live shows.
        RunEvents run = RunEvents.cd("shop", 7, T0);
        List<RecordedEvent> events = new ArrayList<>(run.all().stream().map(RunTimelineTest::recorded).toList());
        events.add(recorded(run.promoted("staging")));
        RunView expected = fold(events);
        assertThat(step(expected, "promoter").detail()).startsWith("promoted to ");

        Random random = new Random(7);
        for (int i = 0; i < 50; i++) {
            List<RecordedEvent> shuffled = new ArrayList<>(events);
            Collections.shuffle(shuffled, random);
            assertThat(fold(shuffled)).as("order %s", shuffled.stream().map(e -> e.type().eventName()).toList())
                    .isEqualTo(expected);
        }
    }

    @Test
    void aReplayReusesTheRecordedInputOfTheHighestAttempt() {
        RunEvents run = RunEvents.cd("shop", 6, T0);
        RunTimeline timeline = new RunTimeline(run.run().runId());
        run.all().forEach(e -> timeline.apply(recorded(e)));
        timeline.apply(recorded(run.promoted("staging")));
        ConveyorEvent second = Replays.withAttempt(run.image(), 2, T0.plusSeconds(200));
        timeline.apply(replayed(second));

        assertThat(timeline.recordedInput(Step.MANIFEST_RENDERER)).containsExactly(second);
        assertThat(timeline.recordedInput(Step.VERSIONER)).containsExactly(run.build());
        assertThat(timeline.recordedInput(Step.FLUX_SYNC)).extracting(ConveyorEvent::eventType)
                .containsOnly(EventType.RELEASE_PROMOTED).hasSize(2);
        assertThat(timeline.recordedInput(Step.BUILD)).isEmpty();
    }
}
