package dev.conveyor.notifier.service;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
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
 * The notifier's durable state: an append-only journal of JSON lines in the data directory, replayed on start and
 * compacted into a snapshot then. It holds the CloudEvents ids already handled (so a redelivered or replayed record
 * makes no call again), each run's folded state, per-run references (PR comment id, Slack channel and ts, so updates
 * edit in place after a restart) and the calls not yet done (resumed after a restart). Every append is forced to disk
 * before the input record is acknowledged. A call that may create something is also journalled as started before it
 * is made, so that after a crash it is known to be in doubt. Runs untouched for longer than the retention are dropped
 * with their ids.
 */
public final class StateStore implements AutoCloseable {

    static final String FILE = "notifier-journal.jsonl";
    private static final Logger LOG = Logger.getLogger(StateStore.class);
    private static final int COMPACT_EVERY = 10_000;

    private final ObjectMapper json = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);
    private final Path file;
    private final Duration retention;
    private final Clock clock;
    private final Set<String> handled = new HashSet<>();
    private final Map<String, RunState> runs = new HashMap<>();
    private final Map<String, Map<String, String>> refs = new HashMap<>();
    private final Map<String, Set<String>> eventsByRun = new HashMap<>();
    private final Map<String, Delivery> pending = new LinkedHashMap<>();
    private final Map<String, Instant> started = new HashMap<>();
    private BufferedWriter out;
    private FileChannel channel;
    private int appended;

    /** One journal line; which fields are set depends on {@code op}. */
    @RegisterForReflection
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Entry(String op, String eventId, List<RunState> runs, List<Delivery> deliveries, String deliveryId,
            String runId, Map<String, String> refs, List<String> eventIds, RunState run, Delivery delivery,
            Instant at) {
    }

    private StateStore(Path dir, Duration retention, Clock clock) {
        this.file = dir.resolve(FILE);
        this.retention = retention;
        this.clock = clock;
    }

    /** Opens (or creates) the journal in {@code dir}, replays it and compacts it. */
    public static StateStore open(Path dir, Duration retention, Clock clock) {
        try {
            Files.createDirectories(dir);
            StateStore store = new StateStore(dir, retention, clock);
            store.replay();
            store.compact();
            return store;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the notifier journal in " + dir, e);
        }
    }

    public synchronized boolean handled(String eventId) {
        return handled.contains(eventId);
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

    /**
     * When a call that may create something (a comment, a Slack message) was first started, if it was and is not done
     * yet. Such a call may have reached the provider before a crash: it is in doubt, and the provider must be asked
     * before it is made again.
     */
    public synchronized Optional<Instant> startedAt(String deliveryId) {
        return Optional.ofNullable(started.get(deliveryId));
    }

    /** Records, durably, that a call is about to be made for the first time. */
    public synchronized void recordStarted(Delivery delivery) {
        if (started.containsKey(delivery.id()) || !pending.containsKey(delivery.id())) {
            return;
        }
        Entry entry = new Entry("started", null, null, null, delivery.id(), delivery.runId(), null, null, null, null,
                clock.instant());
        append(entry);
        apply(entry);
    }

    /** Records a handled event: its id, the runs it changed and the calls it asks for, durably, in one line. */
    public synchronized void recordEvent(String eventId, List<RunState> changed, List<Delivery> deliveries) {
        Entry entry = new Entry("event", eventId, changed, deliveries, null, null, null, null, null, null, null);
        append(entry);
        apply(entry);
    }

    /** Records a call as done (delivered or given up), with the references it produced. */
    public synchronized void recordDone(Delivery delivery, Map<String, String> newRefs) {
        Entry entry = new Entry("done", null, null, null, delivery.id(), delivery.runId(),
                newRefs.isEmpty() ? null : newRefs, null, null, null, null);
        append(entry);
        apply(entry);
    }

    private void apply(Entry e) {
        switch (e.op()) {
            case "event" -> {
                handled.add(e.eventId());
                for (RunState r : e.runs()) {
                    runs.put(r.runId, r);
                    eventsByRun.computeIfAbsent(r.runId, k -> new HashSet<>()).add(e.eventId());
                }
                e.deliveries().forEach(d -> pending.put(d.id(), d));
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
            case "run" -> {
                runs.put(e.run().runId, e.run());
                if (e.refs() != null) {
                    refs.put(e.run().runId, new HashMap<>(e.refs()));
                }
                eventsByRun.put(e.run().runId, new HashSet<>(e.eventIds()));
                handled.addAll(e.eventIds());
            }
            case "handled" -> handled.addAll(e.eventIds());
            case "pending" -> {
                pending.put(e.delivery().id(), e.delivery());
                if (e.at() != null) {
                    started.put(e.delivery().id(), e.at());
                }
            }
            default -> LOG.warnf("ignoring journal entry with unknown op %s", e.op());
        }
    }

    private void replay() throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            try {
                apply(json.readValue(line, Entry.class));
            } catch (IOException | RuntimeException e) {
                // a crash can leave a torn last line; anything else torn means the file was damaged
                if (i == lines.size() - 1) {
                    LOG.warnf("ignoring a torn last line in %s", file);
                } else {
                    throw new IOException("journal " + file + " is damaged at line " + (i + 1), e);
                }
            }
        }
    }

    /** Rewrites the journal as a snapshot (runs within the retention, their event ids, pending calls). */
    synchronized void compact() throws IOException {
        Instant horizon = clock.instant().minus(retention);
        Set<String> keptEvents = new HashSet<>();
        List<String> expired = runs.values().stream()
                .filter(r -> r.updatedAt != null && r.updatedAt.isBefore(horizon)).map(r -> r.runId).toList();
        for (String runId : expired) {
            runs.remove(runId);
            refs.remove(runId);
            Set<String> ids = eventsByRun.remove(runId);
            if (ids != null) {
                handled.removeAll(ids);
            }
            pending.values().removeIf(d -> d.runId().equals(runId));
            started.keySet().retainAll(pending.keySet());
        }
        Path tmp = file.resolveSibling(FILE + ".tmp");
        try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            for (RunState r : runs.values()) {
                List<String> ids = new ArrayList<>(eventsByRun.getOrDefault(r.runId, Set.of()));
                keptEvents.addAll(ids);
                Map<String, String> runRefs = refs.get(r.runId);
                w.write(json.writeValueAsString(
                        new Entry("run", null, null, null, null, null, runRefs, ids, r, null, null)));
                w.newLine();
            }
            // ids of events that touched no known run (a sync of unknown runs) are kept too
            List<String> loose = handled.stream().filter(id -> !keptEvents.contains(id)).toList();
            if (!loose.isEmpty()) {
                w.write(json.writeValueAsString(new Entry("handled", null, null, null, null, null, null, loose, null,
                        null, null)));
                w.newLine();
            }
            for (Delivery d : pending.values()) {
                w.write(json
                        .writeValueAsString(new Entry("pending", null, null, null, null, null, null, null, null, d,
                                started.get(d.id()))));
                w.newLine();
            }
        }
        try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            c.force(true);
        }
        closeWriter();
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        out = new BufferedWriter(java.nio.channels.Channels.newWriter(channel, StandardCharsets.UTF_8));
        appended = 0;
    }

    private void append(Entry entry) {
        try {
            out.write(json.writeValueAsString(entry));
            out.newLine();
            out.flush();
            channel.force(false);
            if (++appended >= COMPACT_EVERY) {
                compact();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to the notifier journal " + file, e);
        }
    }

    private void closeWriter() throws IOException {
        if (out != null) {
            out.close();
            out = null;
            channel = null;
        }
    }

    @Override
    public synchronized void close() {
        try {
            closeWriter();
        } catch (IOException e) {
            LOG.warnf("closing the notifier journal: %s", e.getMessage());
        }
    }
}
