package dev.conveyor.notifier.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.notifier.domain.Delivery;
import dev.conveyor.notifier.domain.RunState;
import dev.conveyor.notifier.domain.StatusState;

class StateStoreTest {

    static final Instant NOW = Instant.parse("2026-03-10T00:00:00Z");

    @TempDir
    Path dir;

    RunState run(String app, Instant at) {
        RunState s = RunState.start(PipelineRun.start(app, "https://github.com/acme/" + app + ".git",
                "0123456789abcdef0123456789abcdef01234567", "main", 3, Flow.CI), at);
        s.stages.put("build", StatusState.SUCCESS);
        s.stages.put("versioner", StatusState.PENDING);
        s.jiraKeys.add("SHOP-2");
        s.jiraKeys.add("SHOP-1");
        return s;
    }

    Delivery call(RunState s, String id) {
        return Delivery.prComment(dev.conveyor.notifier.domain.ProviderKind.GITHUB, s.runId, s.app, "acme/shop", 3,
                "hello").withId(id);
    }

    @Test
    void handledIdsRunStatesReferencesAndPendingCallsSurviveARestart() {
        RunState s = run("shop", NOW);
        try (StateStore store = StateStore.open(dir, Duration.ofDays(14), Clock.fixed(NOW, ZoneOffset.UTC))) {
            store.recordEvent("e1", List.of(s), List.of(call(s, "e1/0"), call(s, "e1/1")));
            store.recordDone(call(s, "e1/0"), Map.of("pr-comment", "9001"));
        }
        try (StateStore store = StateStore.open(dir, Duration.ofDays(14), Clock.fixed(NOW, ZoneOffset.UTC))) {
            assertThat(store.handled("e1")).isTrue();
            assertThat(store.handled("e2")).isFalse();
            assertThat(store.ref(s.runId, "pr-comment")).contains("9001");
            assertThat(store.pending()).extracting(Delivery::id).containsExactly("e1/1");
            RunState back = store.run(s.runId).orElseThrow();
            assertThat(back.stages).containsExactly(Map.entry("build", StatusState.SUCCESS),
                    Map.entry("versioner", StatusState.PENDING));
            assertThat(back.jiraKeys).containsExactly("SHOP-2", "SHOP-1");
            assertThat(back.flow).isEqualTo(Flow.CI);
        }
    }

    @Test
    void aCallStartedButNotDoneIsInDoubtAcrossRestartsAndCompactionsUntilDone() {
        RunState s = run("shop", NOW);
        try (StateStore store = StateStore.open(dir, Duration.ofDays(14), Clock.fixed(NOW, ZoneOffset.UTC))) {
            store.recordEvent("e1", List.of(s), List.of(call(s, "e1/0"), call(s, "e1/1"), call(s, "e1/2")));
            store.recordStarted(call(s, "e1/0"));
            store.recordStarted(call(s, "e1/1"));
            store.recordDone(call(s, "e1/1"), Map.of());
        }
        // the first open replays the lines and compacts them into a snapshot; the second reads the snapshot
        for (int restart = 0; restart < 2; restart++) {
            try (StateStore store = StateStore.open(dir, Duration.ofDays(14), Clock.fixed(NOW.plusSeconds(60),
                    ZoneOffset.UTC))) {
                assertThat(store.pending()).extracting(Delivery::id).containsExactly("e1/0", "e1/2");
                assertThat(store.startedAt("e1/0")).contains(NOW);
                assertThat(store.startedAt("e1/1")).isEmpty();
                assertThat(store.startedAt("e1/2")).isEmpty();
            }
        }
        try (StateStore store = StateStore.open(dir, Duration.ofDays(14), Clock.fixed(NOW, ZoneOffset.UTC))) {
            store.recordDone(call(s, "e1/0"), Map.of("pr-comment", "9001"));
        }
        try (StateStore store = StateStore.open(dir, Duration.ofDays(14), Clock.fixed(NOW, ZoneOffset.UTC))) {
            assertThat(store.startedAt("e1/0")).isEmpty();
            assertThat(store.pending()).extracting(Delivery::id).containsExactly("e1/2");
        }
    }

    @Test
    void aTornLastLineIsIgnoredButDamageInTheMiddleIsNot() throws IOException {
        RunState s = run("shop", NOW);
        try (StateStore store = StateStore.open(dir, Duration.ofDays(14), Clock.fixed(NOW, ZoneOffset.UTC))) {
            store.recordEvent("e1", List.of(s), List.of());
        }
        Path file = dir.resolve(StateStore.FILE);
        Files.writeString(file, "{\"op\":\"event\",\"eventId\":\"e2\",\"ru", StandardCharsets.UTF_8,
                StandardOpenOption.APPEND);
        try (StateStore store = StateStore.open(dir, Duration.ofDays(14), Clock.fixed(NOW, ZoneOffset.UTC))) {
            assertThat(store.handled("e1")).isTrue();
            assertThat(store.handled("e2")).isFalse();
        }
        Files.writeString(file, "garbage\n" + Files.readString(file));
        assertThatThrownBy(() -> StateStore.open(dir, Duration.ofDays(14), Clock.fixed(NOW, ZoneOffset.UTC)))
                .isInstanceOf(UncheckedIOException.class).hasRootCauseInstanceOf(IOException.class)
                .hasMessageContaining(dir.toString());
    }

    @Test
    void runsPastTheRetentionAreDroppedWithTheirIds() {
        RunState old = run("old", NOW.minus(Duration.ofDays(20)));
        RunState fresh = run("fresh", NOW.minus(Duration.ofDays(1)));
        try (StateStore store = StateStore.open(dir, Duration.ofDays(14), Clock.fixed(NOW, ZoneOffset.UTC))) {
            store.recordEvent("old-1", List.of(old), List.of(call(old, "old-1/0")));
            store.recordEvent("fresh-1", List.of(fresh), List.of());
            store.recordEvent("sync-of-nothing", List.of(), List.of());
        }
        try (StateStore store = StateStore.open(dir, Duration.ofDays(14), Clock.fixed(NOW, ZoneOffset.UTC))) {
            assertThat(store.handled("old-1")).isFalse();
            assertThat(store.run(old.runId)).isEmpty();
            assertThat(store.pending()).isEmpty();
            assertThat(store.handled("fresh-1")).isTrue();
            assertThat(store.handled("sync-of-nothing")).isTrue();
            assertThat(store.run(fresh.runId)).isPresent();
        }
    }

    /** The values written, in order, as a state topic partition holds them. */
    static final class ListLog implements StateStore.Log {
        final List<StateStore.Change> written = new ArrayList<>();

        @Override
        public void write(List<StateStore.Change> changes) {
            written.addAll(changes);
        }
    }

    @Test
    void aJournalOfTheVersionBeforeKeysIsReadWithItsRunsIdsReferencesAndCallsInDoubt() throws IOException {
        RunState s = run("shop", NOW);
        String runJson = StateStore.JSON.writeValueAsString(s);
        String first = StateStore.JSON.writeValueAsString(call(s, "e1/0"));
        String second = StateStore.JSON.writeValueAsString(call(s, "e1/1"));
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(StateStore.FILE), String.join("\n",
                "{\"op\":\"event\",\"eventId\":\"e1\",\"runs\":[" + runJson + "],\"deliveries\":[" + first + ","
                        + second + "]}",
                "{\"op\":\"started\",\"deliveryId\":\"e1/0\",\"runId\":\"" + s.runId + "\",\"at\":\"" + NOW + "\"}",
                "{\"op\":\"done\",\"deliveryId\":\"e1/1\",\"runId\":\"" + s.runId
                        + "\",\"refs\":{\"pr-comment\":\"9001\"}}",
                "{\"op\":\"event\",\"eventId\":\"sync-of-nothing\",\"runs\":[],\"deliveries\":[]}") + "\n");
        for (int restart = 0; restart < 2; restart++) {
            try (StateStore store = StateStore.open(dir, Duration.ofDays(14), Clock.fixed(NOW, ZoneOffset.UTC))) {
                assertThat(store.handled("e1")).isTrue();
                assertThat(store.folded(s.runId, "e1")).isTrue();
                assertThat(store.handled("sync-of-nothing")).isTrue();
                assertThat(store.ref(s.runId, "pr-comment")).contains("9001");
                assertThat(store.pending()).extracting(Delivery::id).containsExactly("e1/0");
                assertThat(store.startedAt("e1/0")).contains(NOW);
                assertThat(store.run(s.runId).orElseThrow().jiraKeys).containsExactly("SHOP-2", "SHOP-1");
            }
        }
        // rewritten in the keyed form on the first open
        assertThat(Files.readString(dir.resolve(StateStore.FILE))).contains("\"key\":\"run/" + s.runId + "\"")
                .doesNotContain("\"op\":\"event\"");
    }

    @Test
    void callsOfAnEventNotYetFoldedIntoTheirRunAreDeletedOnRestoreAndTheEventCountsAsNew() {
        RunState s = run("shop", NOW);
        ListLog log = new ListLog();
        try (StateStore store = StateStore.restore(log, List.of(), Duration.ofDays(14), Clock.fixed(NOW,
                ZoneOffset.UTC))) {
            store.recordEvent("e1", List.of(s), List.of(call(s, "e1/0")));
            store.recordStarted(call(s, "e1/0"));
        }
        // a crash after e2's calls were written but before its run was: e2 is read again and makes them again
        List<StateStore.Change> cut = new ArrayList<>(log.written);
        cut.add(new StateStore.Change("call/e2/0", StateStore.Entry.pending(call(s, "e2/0"), null)));
        ListLog next = new ListLog();
        try (StateStore store = StateStore.restore(next, cut, Duration.ofDays(14), Clock.fixed(NOW,
                ZoneOffset.UTC))) {
            assertThat(store.pending()).extracting(Delivery::id).containsExactly("e1/0");
            assertThat(store.startedAt("e1/0")).contains(NOW);
            assertThat(store.handled("e2")).isFalse();
            assertThat(next.written).containsExactly(new StateStore.Change("call/e2/0", null));
        }
    }

    @Test
    void aClosedStoreWritesNothingMoreItsPartitionBelongsToAnotherReplica() {
        RunState s = run("shop", NOW);
        ListLog log = new ListLog();
        StateStore store = StateStore.restore(log, List.of(), Duration.ofDays(14), Clock.fixed(NOW,
                ZoneOffset.UTC));
        store.recordEvent("e1", List.of(s), List.of(call(s, "e1/0"), call(s, "e1/1")));
        int written = log.written.size();
        store.close();
        assertThat(store.isOpen()).isFalse();
        assertThat(store.recordStarted(call(s, "e1/0"))).isFalse();
        store.recordDone(call(s, "e1/1"), Map.of("pr-comment", "9001"));
        assertThatThrownBy(() -> store.recordEvent("e2", List.of(s), List.of()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("another notifier replica");
        assertThat(log.written).hasSize(written);
    }

    @Test
    void anEventNamingTwoRunsCountsAsFoldedPerRun() {
        RunState a = run("shop", NOW);
        RunState b = run("cart", NOW);
        ListLog log = new ListLog();
        try (StateStore store = StateStore.restore(log, List.of(), Duration.ofDays(14), Clock.fixed(NOW,
                ZoneOffset.UTC))) {
            store.recordEvent("sync", List.of(a, b), List.of());
        }
        // cut short after the first run's value
        List<StateStore.Change> cut = log.written.subList(0, 1);
        try (StateStore store = StateStore.restore(new ListLog(), cut, Duration.ofDays(14), Clock.fixed(NOW,
                ZoneOffset.UTC))) {
            assertThat(store.folded(a.runId, "sync")).isTrue();
            assertThat(store.folded(b.runId, "sync")).isFalse();
        }
    }
}
