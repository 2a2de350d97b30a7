package dev.conveyor.gateway.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.conveyor.events.v1.CloudEventAttributes;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.events.v1.SyncSummary;
import dev.conveyor.gateway.client.RunStore;
import dev.conveyor.gateway.domain.RecordedEvent;
import dev.conveyor.gateway.domain.Views.RunUpdate;
import dev.conveyor.gateway.domain.Views.Status;
import dev.conveyor.gateway.support.RunEvents;

class RunReadModelTest {

    static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");

    static RecordedEvent recorded(ConveyorEvent event) {
        return new RecordedEvent(CloudEventAttributes.idOf(event), RunEvents.sourceOf(event), event);
    }

    @Test
    void aSyncedRevisionMovesEveryRunItDeliveredAndDuplicatesChangeNothing() {
        RunReadModel model = new RunReadModel();
        RunEvents first = RunEvents.cd("shop", 1, T0);
        RunEvents second = RunEvents.cd("shop", 2, T0.plusSeconds(5));
        first.all().subList(0, 6).forEach(e -> model.apply(recorded(e)));
        second.all().subList(0, 6).forEach(e -> model.apply(recorded(e)));
        RepoSynced both = new RepoSynced(second.run(), T0.plusSeconds(40), null, "https://git.example.com/org/flux",
                "f".repeat(40), List.of(first.run().runId(), second.run().runId(), "r-unknownunknownunknown1"),
                new SyncSummary(0, 2, 0, 0));
        List<RunUpdate> updates = new ArrayList<>();
        model.streamAll().subscribe().with(updates::add);

        assertThat(model.apply(recorded(both))).isTrue();
        assertThat(model.apply(recorded(both))).isFalse();

        assertThat(updates).extracting(u -> u.run().runId()).containsExactlyInAnyOrder(first.run().runId(),
                second.run().runId());
        for (RunEvents run : List.of(first, second)) {
            assertThat(model.get(run.run().runId()).orElseThrow().steps().get(5).detail())
                    .startsWith("synced ffffffffffff");
        }
        assertThat(model.get("r-unknownunknownunknown1")).isEmpty();
        assertThat(model.list(Optional.of("shop"), Optional.of(Status.RUNNING), Optional.of(Flow.CD), 10))
                .extracting(v -> v.runId()).containsExactly(second.run().runId(), first.run().runId());
        assertThat(model.runIdsOf("shop", T0.plusSeconds(1), T0.plusSeconds(60)))
                .containsExactly(second.run().runId());
    }

    @Test
    void runsReadWhileCatchingUpAreWrittenAtCheckpointsAndACrashLosesOnlyWhatFollowsTheLast(@TempDir Path dir) {
        List<RunEvents> runs = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            runs.add(RunEvents.cd("app-" + (i % 2), i, T0.plusSeconds(10L * i)));
        }
        RunReadModel reference = new RunReadModel();
        runs.forEach(r -> r.all().forEach(e -> reference.apply(recorded(e))));

        TopicPartition tp = new TopicPartition("t", 0);
        // History read interleaved across runs (as across topics), more runs changed between checkpoints than the
        // cache holds (2), a checkpoint every 3 changed runs; one poll per two rounds. Then a crash mid-poll.
        RunReadModel catchingUp = new RunReadModel(RunStore.open(dir), null, 2, 3);
        int events = runs.get(0).all().size();
        for (int k = 0; k < events; k++) {
            for (RunEvents r : runs) {
                catchingUp.apply(recorded(r.all().get(k)), false);
            }
            if (k % 2 == 1 || k == events - 1) {
                catchingUp.commit(Map.of(tp, (long) k + 1));
            }
        }
        catchingUp.apply(recorded(RunEvents.cd("app-9", 9, T0.plusSeconds(90)).all().get(0)), false);
        catchingUp.close(); // not committed: the last event is read again after the restart

        RunReadModel restarted = new RunReadModel(RunStore.open(dir), null, 2);
        assertThat(restarted.positions()).containsEntry(tp, (long) events);
        restarted.markCaughtUp();
        assertThat(restarted.caughtUp()).isTrue();
        assertThat(restarted.snapshot()).isEqualTo(reference.snapshot());
        assertThat(restarted.list(Optional.empty(), Optional.empty(), Optional.empty(), 10))
                .isEqualTo(reference.list(Optional.empty(), Optional.empty(), Optional.empty(), 10)).hasSize(5);
        assertThat(restarted.runIdsOf("app-0", T0, T0.plusSeconds(100)))
                .isEqualTo(reference.runIdsOf("app-0", T0, T0.plusSeconds(100))).hasSize(3);
        for (RunEvents r : runs) {
            assertThat(new String(restarted.snapshotOf(r.run().runId())))
                    .isEqualTo(new String(reference.snapshotOf(r.run().runId())));
        }
        restarted.close();
    }

    @Test
    void aCrashBeforeTheFirstCheckpointLeavesNothingHalfWritten(@TempDir Path dir) {
        RunReadModel catchingUp = new RunReadModel(RunStore.open(dir), null, 2, 100);
        RunEvents.cd("shop", 1, T0).all().forEach(e -> catchingUp.apply(recorded(e), false));
        catchingUp.commit(Map.of(new TopicPartition("t", 0), 7L)); // deferred: fewer changed runs than a checkpoint
        catchingUp.close();

        RunReadModel restarted = new RunReadModel(RunStore.open(dir), null, 2);
        assertThat(restarted.positions()).isEmpty();
        assertThat(restarted.runCount()).isZero();
        restarted.close();
    }
}
