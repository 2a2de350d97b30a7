package dev.conveyor.notifier.service;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import dev.conveyor.notifier.domain.Delivery;
import dev.conveyor.notifier.domain.RunState;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * The notifier's delivery state for the runs of one partition (or of every run, for a single store): the CloudEvents
 * ids already folded into each run (so a redelivered or replayed record makes no call again), each run's folded state,
 * per-run references (PR comment id, Slack channel and ts, so updates edit in place after a move) and the calls not yet
 * done (resumed by whoever holds the state next). A call that may create something is also recorded as started before
 * it is made, so that after a crash it is known to be in doubt.
 * <p>
 * The state is kept as keyed values written to a {@link Log} — a compacted Kafka topic partition
 * ({@link KafkaStateLog}) in production, a journal file ({@link #open(Path, Duration, Clock)}) for one process alone —
 * and rebuilt from them: {@code run/<runId>} (the run, its references, its event ids), {@code call/<deliveryId>} (a
 * call not done yet, with when it was started), {@code handled/<eventId>} (an event that touched no run). A value of
 * {@code null} deletes its key. Every write returns only once durable, so the input record is committed after it.
 * Runs untouched for longer than the retention are deleted with their ids and calls.
 * <p>
 * Once a store is {@linkplain #close() closed} (its partition moved to another replica) it writes nothing more: the
 * next owner has read the log, and a late write from here would overwrite what it writes.
 */
public final class StateStore implements AutoCloseable {

    /** The journal file of a single process, and of the versions before the state moved to Kafka. */
    public static final String FILE = "notifier-journal.jsonl";
    static final String RUN = "run/";
    static final String CALL = "call/";
    static final String HANDLED = "handled/";
    private static final Logger LOG = Logger.getLogger(StateStore.class);
    /** Writes between two expiry sweeps. */
    private static final int SWEEP_EVERY = 10_000;

    static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    private final Log log;
    private final Duration retention;
    private final Clock clock;
    /** Event ids folded, with how many runs (or loose entries) hold each. */
    private final Map<String, Integer> handled = new HashMap<>();
    private final Map<String, RunState> runs = new HashMap<>();
    private final Map<String, Map<String, String>> refs = new HashMap<>();
    private final Map<String, Set<String>> eventsByRun = new HashMap<>();
    private final Set<String> loose = new LinkedHashSet<>();
    private final Map<String, Delivery> pending = new LinkedHashMap<>();
    private final Map<String, Instant> started = new HashMap<>();
    private boolean closed;
    private int written;

    /**
     * One stored value (or, in journals written before the state moved to Kafka, one operation). Which fields are set
     * depends on {@code op}: {@code run}, {@code pending}, {@code handled}, {@code delete}; the old journal's
     * {@code event}, {@code started} and {@code done} are still read.
     */
    @RegisterForReflection
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Entry(String op, String eventId, List<RunState> runs, List<Delivery> deliveries, String deliveryId,
            String runId, Map<String, String> refs, List<String> eventIds, RunState run, Delivery delivery,
            Instant at, String key) {

        static Entry run(RunState run, Map<String, String> refs, List<String> eventIds) {
            return new Entry("run", null, null, null, null, null, refs, eventIds, run, null, null, null);
        }

        static Entry pending(Delivery delivery, Instant startedAt) {
            return new Entry("pending", null, null, null, null, null, null, null, null, delivery, startedAt, null);
        }

        static Entry handled(List<String> eventIds) {
            return new Entry("handled", null, null, null, null, null, null, eventIds, null, null, null, null);
        }

        Entry keyed(String newKey) {
            return new Entry(op, eventId, runs, deliveries, deliveryId, runId, refs, eventIds, run, delivery, at,
                    newKey);
        }
    }

    /** A key's new value; {@code null} deletes the key. */
    @RegisterForReflection
    public record Change(String key, Entry value) {
    }

    /** Where the changes go. */
    public interface Log extends AutoCloseable {

        /** Writes the changes in order; returns once they are durable, else throws. */
        void write(List<Change> changes);

        /** Called when the store is closed. */
        @Override
        default void close() {
        }
    }

    private StateStore(Log log, Duration retention, Clock clock) {
        this.log = log;
        this.retention = retention;
        this.clock = clock;
    }

    /**
     * Opens (or creates) the journal file of a single process in {@code dir}, replays it and compacts it. A journal
     * written by an older version (one line per operation) is read too.
     */
    public static StateStore open(Path dir, Duration retention, Clock clock) {
        FileStateLog file;
        try {
            file = FileStateLog.open(dir.resolve(FILE));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the notifier journal in " + dir, e);
        }
        StateStore store = new StateStore(file, retention, clock);
        file.entries().forEach(store::applyEntry);
        store.settle();
        file.compact(store.snapshot());
        return store;
    }

    /**
     * Rebuilds a store from the changes read back from {@code log} (oldest first), then settles it: calls whose event
     * was never recorded as folded into their run (a crash between the two writes) are deleted — the event, not
     * committed, is read again and makes them again — and runs past the retention are deleted.
     */
    public static StateStore restore(Log log, Iterable<Change> changes, Duration retention, Clock clock) {
        StateStore store = new StateStore(log, retention, clock);
        for (Change c : changes) {
            store.apply(c);
        }
        List<Change> fixes = store.settle();
        if (!fixes.isEmpty()) {
            log.write(fixes);
        }
        return store;
    }

    public synchronized boolean handled(String eventId) {
        return handled.containsKey(eventId);
    }

    /** Whether the event was folded into this run (an event naming several runs is written run by run). */
    public synchronized boolean folded(String runId, String eventId) {
        return eventsByRun.getOrDefault(runId, Set.of()).contains(eventId);
    }

    public synchronized Optional<RunState> run(String runId) {
        return Optional.ofNullable(runs.get(runId));
    }

    public synchronized Optional<String> ref(String runId, String key) {
        return Optional.ofNullable(refs.getOrDefault(runId, Map.of()).get(key));
    }

    /** Calls recorded but not yet done, in the order they were recorded. */
    public synchronized List<Delivery> pending() {
        return new ArrayList<>(pending.values());
    }

    /** How many runs the store holds. */
    public synchronized int runCount() {
        return runs.size();
    }

    /**
     * When a call that may create something (a comment, a Slack message) was first started, if it was and is not done
     * yet. Such a call may have reached the provider before a crash: it is in doubt, and the provider must be asked
     * before it is made again.
     */
    public synchronized Optional<Instant> startedAt(String deliveryId) {
        return Optional.ofNullable(started.get(deliveryId));
    }

    /** Whether the store still owns its runs (not closed because its partition moved). */
    public synchronized boolean isOpen() {
        return !closed;
    }

    /**
     * Records, durably, that a call is about to be made for the first time.
     *
     * @return {@code false} when the store is closed: the call must not be made from here
     */
    public synchronized boolean recordStarted(Delivery delivery) {
        if (closed) {
            return false;
        }
        if (started.containsKey(delivery.id()) || !pending.containsKey(delivery.id())) {
            return true;
        }
        write(List.of(new Change(CALL + delivery.id(), Entry.pending(delivery, clock.instant()))));
        return true;
    }

    /**
     * Records a handled event: the calls it asks for, then each run it changed with the event's id (a run's value is
     * where the event counts as folded, so the calls come first).
     */
    public synchronized void recordEvent(String eventId, List<RunState> changed, List<Delivery> deliveries) {
        requireOpen();
        List<Change> changes = new ArrayList<>();
        deliveries.forEach(d -> changes.add(new Change(CALL + d.id(), Entry.pending(d, null))));
        for (RunState r : changed) {
            List<String> ids = new ArrayList<>(eventsByRun.getOrDefault(r.runId, Set.of()));
            if (!ids.contains(eventId)) {
                ids.add(eventId);
            }
            changes.add(new Change(RUN + r.runId, Entry.run(r, refs.get(r.runId), ids)));
        }
        if (changed.isEmpty()) {
            changes.add(new Change(HANDLED + eventId, Entry.handled(List.of(eventId))));
        }
        write(changes);
    }

    /**
     * Records a call as done (delivered or given up), with the references it produced. A closed store records nothing:
     * the call stays pending for the partition's next owner, which makes it again (or, if it creates, looks it up).
     */
    public synchronized void recordDone(Delivery delivery, Map<String, String> newRefs) {
        if (closed) {
            return;
        }
        List<Change> changes = new ArrayList<>();
        RunState run = runs.get(delivery.runId());
        if (!newRefs.isEmpty() && run != null) {
            Map<String, String> merged = new HashMap<>(refs.getOrDefault(delivery.runId(), Map.of()));
            merged.putAll(newRefs);
            changes.add(new Change(RUN + run.runId, Entry.run(run, merged,
                    new ArrayList<>(eventsByRun.getOrDefault(run.runId, Set.of())))));
        }
        changes.add(new Change(CALL + delivery.id(), null));
        write(changes);
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the state of these runs moved to another notifier replica");
        }
    }

    private void write(List<Change> changes) {
        log.write(changes);
        changes.forEach(this::apply);
        written += changes.size();
        if (written >= SWEEP_EVERY) {
            written = 0;
            List<Change> expired = expired();
            if (!expired.isEmpty()) {
                log.write(expired);
                expired.forEach(this::apply);
            }
        }
    }

    /** Applies one stored value. */
    private void apply(Change c) {
        String key = c.key();
        Entry e = c.value();
        if (key.startsWith(RUN)) {
            String runId = key.substring(RUN.length());
            Set<String> before = eventsByRun.remove(runId);
            if (before != null) {
                before.forEach(this::forget);
            }
            if (e == null) {
                runs.remove(runId);
                refs.remove(runId);
                return;
            }
            runs.put(runId, e.run());
            if (e.refs() != null) {
                refs.put(runId, new HashMap<>(e.refs()));
            } else {
                refs.remove(runId);
            }
            Set<String> ids = new HashSet<>(e.eventIds() == null ? List.of() : e.eventIds());
            eventsByRun.put(runId, ids);
            ids.forEach(id -> handled.merge(id, 1, Integer::sum));
        } else if (key.startsWith(CALL)) {
            String id = key.substring(CALL.length());
            if (e == null) {
                pending.remove(id);
                started.remove(id);
                return;
            }
            pending.put(id, e.delivery());
            if (e.at() != null) {
                started.put(id, e.at());
            } else {
                started.remove(id);
            }
        } else if (key.startsWith(HANDLED)) {
            String id = key.substring(HANDLED.length());
            if (e == null) {
                if (loose.remove(id)) {
                    forget(id);
                }
            } else if (loose.add(id)) {
                handled.merge(id, 1, Integer::sum);
            }
        } else {
            LOG.warnf("ignoring stored notifier state with unknown key %s", key);
        }
    }

    /** Applies one journal line: a keyed value, or an operation of the journal format before keys. */
    private void applyEntry(Entry e) {
        if (e.key() != null) {
            apply(new Change(e.key(), "delete".equals(e.op()) ? null : e));
            return;
        }
        switch (e.op()) {
            case "event" -> {
                for (RunState r : e.runs()) {
                    Set<String> ids = new HashSet<>(eventsByRun.getOrDefault(r.runId, Set.of()));
                    ids.add(e.eventId());
                    apply(new Change(RUN + r.runId, Entry.run(r, refs.get(r.runId), new ArrayList<>(ids))));
                }
                if (e.runs().isEmpty()) {
                    apply(new Change(HANDLED + e.eventId(), Entry.handled(List.of(e.eventId()))));
                }
                e.deliveries().forEach(d -> apply(new Change(CALL + d.id(), Entry.pending(d, null))));
            }
            case "started" -> {
                if (pending.containsKey(e.deliveryId())) {
                    started.put(e.deliveryId(), e.at());
                }
            }
            case "done" -> {
                pending.remove(e.deliveryId());
                started.remove(e.deliveryId());
                if (e.refs() != null) {
                    refs.computeIfAbsent(e.runId(), k -> new HashMap<>()).putAll(e.refs());
                }
            }
            case "run" -> apply(new Change(RUN + e.run().runId, Entry.run(e.run(), e.refs(), e.eventIds())));
            case "handled" -> e.eventIds()
                    .forEach(id -> apply(new Change(HANDLED + id, Entry.handled(List.of(id)))));
            case "pending" -> apply(new Change(CALL + e.delivery().id(), Entry.pending(e.delivery(), e.at())));
            default -> LOG.warnf("ignoring journal entry with unknown op %s", e.op());
        }
    }

    private void forget(String eventId) {
        handled.computeIfPresent(eventId, (k, n) -> n == 1 ? null : n - 1);
    }

    /** Deletes uncommitted calls and expired runs; returns the deletions to write. */
    private List<Change> settle() {
        List<Change> fixes = new ArrayList<>();
        for (Delivery d : pending.values()) {
            Set<String> ids = eventsByRun.getOrDefault(d.runId(), Set.of());
            if (ids.stream().noneMatch(id -> d.id().startsWith(id + "/"))) {
                fixes.add(new Change(CALL + d.id(), null));
            }
        }
        fixes.forEach(this::apply);
        List<Change> expired = expired();
        expired.forEach(this::apply);
        fixes.addAll(expired);
        return fixes;
    }

    /** Deletions of the runs untouched for longer than the retention, with their calls. */
    private List<Change> expired() {
        Instant horizon = clock.instant().minus(retention);
        List<Change> out = new ArrayList<>();
        for (RunState r : runs.values()) {
            if (r.updatedAt != null && r.updatedAt.isBefore(horizon)) {
                out.add(new Change(RUN + r.runId, null));
                pending.values().stream().filter(d -> d.runId().equals(r.runId))
                        .forEach(d -> out.add(new Change(CALL + d.id(), null)));
            }
        }
        return out;
    }

    /** Every key's current value: what a compacted log holds. */
    public synchronized List<Change> snapshot() {
        List<Change> out = new ArrayList<>();
        for (RunState r : runs.values()) {
            out.add(new Change(RUN + r.runId, Entry.run(r, refs.get(r.runId),
                    new ArrayList<>(eventsByRun.getOrDefault(r.runId, Set.of())))));
        }
        // ids of events that touched no run (a sync of no run) are kept too
        loose.forEach(id -> out.add(new Change(HANDLED + id, Entry.handled(List.of(id)))));
        for (Delivery d : pending.values()) {
            out.add(new Change(CALL + d.id(), Entry.pending(d, started.get(d.id()))));
        }
        return out;
    }

    /** Stops writing: the runs' state belongs to another replica now. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            log.close();
        } catch (RuntimeException e) {
            LOG.warnf("closing the notifier state: %s", e.getMessage());
        }
    }
}
