package dev.conveyor.gateway.service;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Function;

import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.gateway.client.RunStore;
import dev.conveyor.gateway.domain.RecordedEvent;
import dev.conveyor.gateway.domain.RunSnapshot;
import dev.conveyor.gateway.domain.RunTimeline;
import dev.conveyor.gateway.domain.Views.RunUpdate;
import dev.conveyor.gateway.domain.Views.RunView;
import dev.conveyor.gateway.domain.Views.Status;
import io.smallrye.mutiny.Multi;

/**
 * Every run's timeline, keyed by run id, folded from the event log and from the run history topic.
 *
 * <p>
 * Every run is kept in a {@link RunStore} (the replica's disk) as one row: its summary for lists and its snapshot
 * (every event of the run), with the position reached in each partition, so a restart resumes where it stopped
 * instead of reading the log again, and a run stays when the event topics' retention has dropped its events. Only the
 * timelines of the {@code cacheRuns} runs used last, and of the runs changed since the last commit, are held in
 * memory; any other run is folded again from its stored snapshot when asked for.
 *
 * <p>
 * Every event is folded as it is read, history included. While catching up (reading the log up to where it ended at
 * start) the changed runs are written every {@code checkpointRuns} changed runs rather than after every poll, so a run
 * whose events arrive over several polls is written about once; the reader reads the partitions in step by record
 * time (see {@link dev.conveyor.gateway.messaging.EventLogReader}), so a run's events arrive close together and its
 * timeline is still in memory when the next one comes.
 */
public class RunReadModel implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(RunReadModel.class);

    /** Timelines kept in memory by default. */
    public static final int DEFAULT_CACHE_RUNS = 2000;

    /** Changed runs held in memory while catching up before they are written and committed, by default. */
    public static final int DEFAULT_CHECKPOINT_RUNS = 2000;

    private final RunStore store;
    private final Map<String, RunTimeline> cache;
    /** Runs changed since they were last written. */
    private final Map<String, RunTimeline> dirty = new LinkedHashMap<>();
    private final List<Consumer<RunUpdate>> listeners = new CopyOnWriteArrayList<>();
    private final PipelineMetrics metrics;
    private final String writerId;
    private final int checkpointRuns;
    /** While catching up: the positions of the last poll, committed at the next checkpoint. */
    private Map<TopicPartition, Long> deferred;
    /** Runs folded again from the store (a cache miss), since start. */
    private long reloads;
    private volatile boolean caughtUp;

    /** A read model in memory that measures nothing (a second reader, tests). */
    public RunReadModel() {
        this((PipelineMetrics) null);
    }

    /** A read model in memory that records the pipeline's measures from live events into {@code metrics}. */
    public RunReadModel(PipelineMetrics metrics) {
        this(RunStore.inMemory(), metrics, DEFAULT_CACHE_RUNS);
    }

    /**
     * @param store where every run, its summary and the log positions are kept
     * @param metrics where live events are measured (null: nowhere)
     * @param cacheRuns how many timelines to keep in memory
     */
    public RunReadModel(RunStore store, PipelineMetrics metrics, int cacheRuns) {
        this(store, metrics, cacheRuns, DEFAULT_CHECKPOINT_RUNS);
    }

    /**
     * @param checkpointRuns while catching up, how many changed runs are held before they are written and committed
     */
    public RunReadModel(RunStore store, PipelineMetrics metrics, int cacheRuns, int checkpointRuns) {
        if (cacheRuns < 1) {
            throw new IllegalArgumentException("cacheRuns must be at least 1");
        }
        if (checkpointRuns < 1) {
            throw new IllegalArgumentException("checkpointRuns must be at least 1");
        }
        this.store = store;
        this.metrics = metrics;
        this.checkpointRuns = checkpointRuns;
        this.writerId = store.writerId();
        this.cache = new LinkedHashMap<>(Math.min(cacheRuns, 1024), 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, RunTimeline> eldest) {
                return size() > cacheRuns;
            }
        };
    }

    /** {@link #apply(RecordedEvent, boolean)} of a live event. */
    public boolean apply(RecordedEvent recorded) {
        return apply(recorded, true);
    }

    /**
     * Applies one event read from an event topic to its run (and, for a {@code RepoSynced}, to every known run its
     * revision delivered). Returns whether anything changed: a duplicate changes nothing. {@code live} says whether
     * the event was read beyond where the log ended at start: only live events are measured (see
     * {@link PipelineMetrics}). A run it changes has its snapshot published (see {@link #pendingSnapshots}).
     */
    public synchronized boolean apply(RecordedEvent recorded, boolean live) {
        Set<String> targets = new LinkedHashSet<>();
        targets.add(recorded.event().run().runId());
        if (recorded.event() instanceof RepoSynced synced) {
            synced.runIds().stream().filter(this::known).forEach(targets::add);
        }
        boolean changed = false;
        for (String runId : targets) {
            RunTimeline timeline = timeline(runId).orElseGet(() -> new RunTimeline(runId));
            Status before = timeline.status();
            if (timeline.apply(recorded)) {
                changed = true;
                changed(timeline, recorded);
                store.markPending(runId);
                if (metrics != null) {
                    metrics.runChanged(timeline, before, recorded.event(), live);
                }
            }
        }
        if (changed && metrics != null) {
            metrics.eventApplied(recorded.event(), live);
        }
        return changed;
    }

    /**
     * Merges a run's snapshot read from the run history topic (written by this or another replica): its events are
     * added to the run, nothing is measured (it is history). A snapshot equal to what this replica holds (same
     * SHA-256) changes nothing, and the run's own snapshot need not be written (the topic holds it). When this replica
     * knows events the snapshot lacks (it was written by a replica behind this one), the run's snapshot is written
     * again, so the topic ends up with the union. Returns whether anything changed here.
     *
     * @throws dev.conveyor.events.v1.EventFormatException when the snapshot is unreadable
     */
    public synchronized boolean merge(String runId, byte[] snapshot) {
        return merge(runId, snapshot, null);
    }

    /**
     * {@link #merge(String, byte[])} of a snapshot written by {@code writer}: one this replica's store wrote (also
     * before a restart) is skipped unread, since every event in it is in the store already.
     */
    public synchronized boolean merge(String runId, byte[] snapshot, String writer) {
        if (writer != null && writer.equals(writerId)) {
            return false;
        }
        byte[] sha = RunSnapshot.sha256(snapshot);
        if (currentSha(runId).map(known -> java.util.Arrays.equals(known, sha)).orElse(false)) {
            store.unmarkPending(runId);
            return false;
        }
        List<RecordedEvent> events = RunSnapshot.events(snapshot);
        RunTimeline timeline = timeline(runId).orElseGet(() -> new RunTimeline(runId));
        boolean changed = false;
        for (RecordedEvent recorded : events) {
            if (timeline.apply(recorded)) {
                changed = true;
                changed(timeline, recorded);
            }
        }
        if (timeline.eventCount() > events.size()) {
            store.markPending(runId);
        } else {
            store.unmarkPending(runId);
        }
        return changed;
    }

    /** The SHA-256 of the run's snapshot as this replica knows it, if it knows the run. */
    private Optional<byte[]> currentSha(String runId) {
        RunTimeline changed = dirty.get(runId);
        if (changed != null) {
            return Optional.of(RunSnapshot.sha256(snapshotOf(changed)));
        }
        return store.sha256(runId);
    }

    private static byte[] snapshotOf(RunTimeline timeline) {
        List<RecordedEvent> events = timeline.eventsById();
        List<byte[]> docs = new ArrayList<>(events.size());
        for (RecordedEvent recorded : events) {
            docs.add(RunSnapshot.encode(recorded));
        }
        return RunSnapshot.snapshot(timeline.runId(), docs);
    }

    /** A run changed: kept in memory until written, and its subscribers told. */
    private void changed(RunTimeline timeline, RecordedEvent recorded) {
        String runId = timeline.runId();
        cache.put(runId, timeline);
        dirty.put(runId, timeline);
        if (!listeners.isEmpty()) {
            RunUpdate update = new RunUpdate(RunTimeline.eventView(recorded), timeline.view(true));
            listeners.forEach(l -> l.accept(update));
        }
    }

    /** Whether any event of the run was read. */
    private boolean known(String runId) {
        return cache.containsKey(runId) || dirty.containsKey(runId) || store.hasRun(runId);
    }

    /** The run's timeline: from memory, or folded again from its stored snapshot (and kept in memory). */
    private Optional<RunTimeline> timeline(String runId) {
        RunTimeline timeline = cache.get(runId);
        if (timeline == null) {
            timeline = dirty.get(runId);
        }
        if (timeline != null) {
            return Optional.of(timeline);
        }
        Optional<byte[]> stored = store.snapshot(runId);
        if (stored.isEmpty()) {
            return Optional.empty();
        }
        reloads++;
        RunTimeline loaded = new RunTimeline(runId);
        try {
            RunSnapshot.events(stored.get()).forEach(loaded::apply);
        } catch (RuntimeException e) {
            LOG.warnf("run %s: its stored snapshot is unreadable (%s): shown without it", runId, e.getMessage());
        }
        cache.put(runId, loaded);
        return Optional.of(loaded);
    }

    /** Writes the runs changed since the last call: summary, snapshot and its SHA-256 (the same transaction). */
    private void writeSummaries() {
        for (RunTimeline timeline : dirty.values()) {
            byte[] snapshot = snapshotOf(timeline);
            store.putRun(timeline.view(false), snapshot, RunSnapshot.sha256(snapshot));
        }
        dirty.clear();
    }

    /**
     * Commits everything applied since the last commit together with where each partition is to be resumed from: a
     * restart resumes there, and loses nothing that was committed.
     */
    public synchronized void commit(Map<TopicPartition, Long> positions) {
        if (!caughtUp && dirty.size() < checkpointRuns) {
            deferred = positions; // catching up: at the next checkpoint (or once caught up)
            return;
        }
        writeSummaries();
        store.commit(positions);
        deferred = null;
    }

    /** Where to resume reading each partition (empty for a new store: from the beginning). */
    public synchronized Map<TopicPartition, Long> positions() {
        return store.positions();
    }

    /**
     * Hands up to {@code max} runs' snapshots, changed since they were last published, to {@code publisher} (which
     * must have them acknowledged by the broker before it returns), then notes them published. Returns how many.
     */
    public synchronized int publishSnapshots(int max, Consumer<Map<String, byte[]>> publisher) {
        List<String> pending = store.pending(max);
        if (pending.isEmpty()) {
            return 0;
        }
        Map<String, byte[]> snapshots = new LinkedHashMap<>();
        for (String runId : pending) {
            snapshots.put(runId, snapshotOf(runId));
        }
        publisher.accept(snapshots);
        store.published(pending);
        return pending.size();
    }

    /** The run's snapshot as this replica knows it (the bytes the history topic holds for it once converged). */
    public synchronized byte[] snapshotOf(String runId) {
        RunTimeline changed = dirty.get(runId);
        if (changed != null) {
            return snapshotOf(changed);
        }
        return store.snapshot(runId).orElseGet(() -> RunSnapshot.snapshot(runId, List.of()));
    }

    /** The id this replica's snapshots carry (in the {@code conveyor-writer} header). */
    public String writerId() {
        return writerId;
    }

    /** How many runs wait for their snapshot to be written. */
    public synchronized long pendingSnapshotCount() {
        return store.pendingCount();
    }

    /** Runs whose snapshot is still to be published, at most {@code max}. */
    public synchronized List<String> pendingSnapshots(int max) {
        return store.pending(max);
    }

    /** Runs matching the filters (each optional), newest first. */
    public synchronized List<RunView> list(Optional<String> app, Optional<Status> status, Optional<Flow> flow,
            int limit) {
        summariesUpToDate();
        return store.list(app, status, flow, limit);
    }

    /** One run's timeline with its events. */
    public synchronized Optional<RunView> get(String runId) {
        return timeline(runId).filter(t -> t.run().isPresent()).map(t -> t.view(true));
    }

    /** Every run's timeline with events, ordered by run id: what a rebuilt read model must equal. */
    public synchronized List<RunView> snapshot() {
        writeSummaries();
        List<RunView> views = new ArrayList<>();
        for (String runId : store.runIds()) {
            timeline(runId).ifPresent(t -> views.add(t.view(true)));
        }
        return views;
    }

    /** How many runs are known (with a summary written). */
    public synchronized long runCount() {
        summariesUpToDate();
        return store.runCount();
    }

    /** Runs something against one run's timeline under the model's lock, e.g. to plan a replay. */
    public synchronized <T> Optional<T> withRun(String runId, Function<RunTimeline, T> action) {
        return timeline(runId).filter(t -> t.run().isPresent()).map(action);
    }

    /** Ids of an app's runs whose first event happened in [since, until), oldest first. */
    public synchronized List<String> runIdsOf(String app, Instant since, Instant until) {
        summariesUpToDate();
        return store.runIdsOf(app, since, until);
    }

    /**
     * A run's updates as they happen, starting with its current timeline (an update without event). Completes never;
     * the subscriber cancels.
     */
    public Multi<RunUpdate> stream(String runId) {
        return Multi.createFrom().emitter(emitter -> {
            Consumer<RunUpdate> listener = u -> {
                if (u.run().runId().equals(runId)) {
                    emitter.emit(u);
                }
            };
            synchronized (this) {
                listeners.add(listener);
                get(runId).ifPresent(v -> emitter.emit(new RunUpdate(null, v)));
            }
            emitter.onTermination(() -> listeners.remove(listener));
        });
    }

    /** Every run's updates as they happen, as summaries (no event lists). */
    public Multi<RunUpdate> streamAll() {
        return Multi.createFrom().emitter(emitter -> {
            Consumer<RunUpdate> listener = u -> emitter.emit(new RunUpdate(u.event(), u.run().summary()));
            listeners.add(listener);
            emitter.onTermination(() -> listeners.remove(listener));
        });
    }

    /** Whether the log has been read up to where it ended when the gateway started. */
    public boolean caughtUp() {
        return caughtUp;
    }

    /**
     * Called once the log has been read up to where it ended at start: writes and commits what catching up changed
     * since its last checkpoint, then reports caught up (ready).
     */
    public synchronized void markCaughtUp() {
        writeSummaries();
        store.commit(deferred == null ? Map.of() : deferred);
        deferred = null;
        if (reloads > 0) {
            LOG.infof("run history: caught up; %d runs were folded again from the store", reloads);
        }
        caughtUp = true;
    }

    /** Summaries written for every run changed so far (in the current transaction). */
    private void summariesUpToDate() {
        writeSummaries();
    }

    @Override
    public synchronized void close() {
        store.close();
    }
}
