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
 * Every event of every run is kept in a {@link RunStore} (the replica's disk), with a summary per run for lists and
 * the position reached in each partition, so a restart resumes where it stopped instead of reading the log again, and a
 * run stays when the event topics' retention has dropped its events. Only the timelines of the {@code cacheRuns} runs
 * used last are held in memory; any other run is folded again from its stored events when asked for.
 */
public class RunReadModel implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(RunReadModel.class);

    /** Timelines kept in memory by default. */
    public static final int DEFAULT_CACHE_RUNS = 2000;

    private final RunStore store;
    private final Map<String, RunTimeline> cache;
    /** Runs changed since their summary was last written. */
    private final Map<String, RunTimeline> dirty = new LinkedHashMap<>();
    private final List<Consumer<RunUpdate>> listeners = new CopyOnWriteArrayList<>();
    private final PipelineMetrics metrics;
    private final String writerId;
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
     * @param store where every run's events, summaries and the log positions are kept
     * @param metrics where live events are measured (null: nowhere)
     * @param cacheRuns how many timelines to keep in memory
     */
    public RunReadModel(RunStore store, PipelineMetrics metrics, int cacheRuns) {
        if (cacheRuns < 1) {
            throw new IllegalArgumentException("cacheRuns must be at least 1");
        }
        this.store = store;
        this.metrics = metrics;
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
        if (!caughtUp && !live) {
            return record(targets, recorded);
        }
        boolean changed = false;
        byte[] doc = null;
        for (String runId : targets) {
            RunTimeline timeline = timeline(runId).orElseGet(() -> new RunTimeline(runId));
            Status before = timeline.status();
            if (timeline.apply(recorded)) {
                changed = true;
                doc = doc == null ? RunSnapshot.encode(recorded) : doc;
                record(timeline, recorded, doc);
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
     * added to the run, nothing is measured (it is history). A snapshot this replica wrote or merged before (same
     * SHA-256) is skipped without being read, so reading back its own writes costs a lookup. When this replica knows
     * events the snapshot lacks (it was written by a replica behind this one), the run's snapshot is written again, so
     * the topic ends up with the union. Returns whether anything changed here.
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
        if (store.snapshotSha(runId).map(known -> java.util.Arrays.equals(known, sha)).orElse(false)) {
            return false;
        }
        List<RecordedEvent> events = RunSnapshot.events(snapshot);
        RunTimeline timeline = timeline(runId).orElseGet(() -> new RunTimeline(runId));
        boolean changed = false;
        for (RecordedEvent recorded : events) {
            if (timeline.apply(recorded)) {
                changed = true;
                record(timeline, recorded, RunSnapshot.encode(recorded));
            }
        }
        if (timeline.eventCount() > events.size()) {
            store.markPending(runId);
        } else {
            store.putSnapshotSha(runId, sha);
        }
        return changed;
    }

    /**
     * Catching up on history: the event is stored for each run it belongs to, and the run is noted as to be folded
     * again once caught up ({@link #markCaughtUp}), without folding it now. The log interleaves runs across topics, so
     * a run read while catching up is rarely still in memory: folding it at once would read and decode its stored
     * events again for every one of its events. Storing is idempotent (a duplicate rewrites the same document), and the
     * mark is stored in the same transaction as the event and the position, so a crash loses neither.
     */
    private boolean record(Set<String> targets, RecordedEvent recorded) {
        byte[] doc = RunSnapshot.encode(recorded);
        for (String runId : targets) {
            store.putEvent(runId, recorded.id(), doc);
            store.markStale(runId);
            store.markPending(runId);
            cache.remove(runId);
            dirty.remove(runId);
        }
        if (metrics != null) {
            metrics.eventApplied(recorded.event(), false);
        }
        return true;
    }

    private void record(RunTimeline timeline, RecordedEvent recorded, byte[] doc) {
        String runId = timeline.runId();
        store.putEvent(runId, recorded.id(), doc);
        cache.put(runId, timeline);
        dirty.put(runId, timeline);
        if (!listeners.isEmpty()) {
            RunUpdate update = new RunUpdate(RunTimeline.eventView(recorded), timeline.view(true));
            listeners.forEach(l -> l.accept(update));
        }
    }

    /** Whether any event of the run was read. */
    private boolean known(String runId) {
        return cache.containsKey(runId) || store.hasRun(runId);
    }

    /** The run's timeline: from memory, or folded again from its stored events (and kept in memory). */
    private Optional<RunTimeline> timeline(String runId) {
        RunTimeline timeline = cache.get(runId);
        if (timeline != null) {
            return Optional.of(timeline);
        }
        List<byte[]> docs = store.eventsOf(runId);
        if (docs.isEmpty()) {
            return Optional.empty();
        }
        RunTimeline loaded = new RunTimeline(runId);
        for (byte[] doc : docs) {
            try {
                loaded.apply(RunSnapshot.decode(doc));
            } catch (RuntimeException e) {
                LOG.warnf("run %s: skipping an unreadable stored event: %s", runId, e.getMessage());
            }
        }
        cache.put(runId, loaded);
        return Optional.of(loaded);
    }

    /** Writes the summaries of the runs changed since the last call (the same transaction). */
    private void writeSummaries() {
        for (RunTimeline timeline : dirty.values()) {
            store.putSummary(timeline.view(false));
        }
        dirty.clear();
    }

    /**
     * Commits everything applied since the last commit together with where each partition is to be resumed from: a
     * restart resumes there, and loses nothing that was committed.
     */
    public synchronized void commit(Map<TopicPartition, Long> positions) {
        writeSummaries();
        store.commit(positions);
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
        snapshots.forEach((runId, bytes) -> store.putSnapshotSha(runId, RunSnapshot.sha256(bytes)));
        store.published(pending);
        return pending.size();
    }

    /** The run's snapshot as this replica knows it (the bytes the history topic holds for it once converged). */
    public synchronized byte[] snapshotOf(String runId) {
        return RunSnapshot.snapshot(runId, store.eventsOf(runId));
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
     * Called once the log has been read up to where it ended at start: folds every run whose events were stored while
     * catching up (see {@link #apply(RecordedEvent, boolean)}) once, writes its summary, and only then reports caught
     * up (ready). Each batch of runs is committed with its summaries; a crash in between folds the rest at the next
     * start.
     */
    public void markCaughtUp() {
        long folded = 0;
        long begin = System.nanoTime();
        while (true) {
            int n = foldStale(STALE_BATCH);
            folded += n;
            if (n < STALE_BATCH) {
                break;
            }
        }
        if (folded > 0) {
            LOG.infof("run history: %d runs read while catching up folded in %d ms", folded,
                    (System.nanoTime() - begin) / 1_000_000);
        }
        caughtUp = true;
    }

    private static final int STALE_BATCH = 1000;

    private synchronized int foldStale(int max) {
        int n = foldStaleNow(max);
        store.commit(Map.of());
        return n;
    }

    /** Folds up to {@code max} stale runs and writes their summaries, in the current transaction. */
    private int foldStaleNow(int max) {
        List<String> stale = store.stale(max);
        for (String runId : stale) {
            cache.remove(runId);
            timeline(runId).ifPresent(t -> dirty.put(runId, t));
            writeSummaries();
        }
        store.folded(stale);
        return stale.size();
    }

    /** Summaries written for every run, including those stored while catching up and not folded yet. */
    private void summariesUpToDate() {
        while (foldStaleNow(STALE_BATCH) == STALE_BATCH) {
            // until none is left
        }
        writeSummaries();
    }

    @Override
    public synchronized void close() {
        store.close();
    }
}
