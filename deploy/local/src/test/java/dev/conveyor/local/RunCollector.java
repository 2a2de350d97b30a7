package dev.conveyor.local;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import dev.conveyor.events.kafka.ConveyorEventDeserializer;
import dev.conveyor.events.v1.BuildFailed;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.ReleaseDegraded;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.events.v1.StageFailed;

/**
 * One consumer that reads every event topic (all partitions) from a point in time and files each event under its run
 * (a {@code RepoSynced} under every run it lists), so that a hundred runs in flight are followed by one thread instead
 * of a hundred consumers competing with the stack for the same two cores. Events are counted once by CloudEvents id.
 */
final class RunCollector implements AutoCloseable {

    /** An event of a run and when the collector read it. */
    record Seen(ConveyorEvent event, Instant readAt) {
    }

    private final Map<String, List<Seen>> byRun = new ConcurrentHashMap<>();
    private final List<RepoSynced> syncs = java.util.Collections.synchronizedList(new ArrayList<>());
    private final Thread thread;
    private volatile boolean stop;
    private volatile RuntimeException failure;

    RunCollector(String bootstrap, Instant since) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
        Pipeline.startAt(consumer, since);
        thread = new Thread(() -> run(consumer), "run-collector");
        thread.setDaemon(true);
        thread.start();
    }

    private void run(KafkaConsumer<byte[], byte[]> consumer) {
        ConveyorEventDeserializer deserializer = new ConveyorEventDeserializer();
        Set<String> seen = new HashSet<>();
        try (consumer) {
            while (!stop) {
                for (ConsumerRecord<byte[], byte[]> rec : consumer.poll(Duration.ofMillis(100))) {
                    Instant now = Instant.now();
                    var id = rec.headers().lastHeader("ce_id");
                    if (id != null && !seen.add(new String(id.value(), StandardCharsets.UTF_8))) {
                        continue;
                    }
                    ConveyorEvent event;
                    try {
                        event = deserializer.deserialize(rec.topic(), rec.headers(), rec.value());
                    } catch (RuntimeException e) {
                        continue;
                    }
                    if (event instanceof RepoSynced s) {
                        syncs.add(s);
                        for (String run : s.runIds()) {
                            file(run, new Seen(event, now));
                        }
                    } else {
                        file(event.run().runId(), new Seen(event, now));
                    }
                }
            }
        } catch (RuntimeException e) {
            failure = e;
        }
    }

    private void file(String runId, Seen seen) {
        byRun.computeIfAbsent(runId, k -> java.util.Collections.synchronizedList(new ArrayList<>())).add(seen);
    }

    /** The events of a run's attempt read so far, in reading order. */
    List<Seen> events(String runId, int attempt) {
        List<Seen> all = byRun.getOrDefault(runId, List.of());
        synchronized (all) {
            return all.stream().filter(s -> s.event().run().attempt() == attempt || s.event() instanceof RepoSynced)
                    .toList();
        }
    }

    /** Every {@code RepoSynced} read so far. */
    List<RepoSynced> syncs() {
        synchronized (syncs) {
            return List.copyOf(syncs);
        }
    }

    /** Whether the run has ended: synced and healthy or degraded, or failed. */
    boolean ended(String runId, int attempt) {
        List<Seen> events = events(runId, attempt);
        boolean failed = events.stream().anyMatch(s -> s.event() instanceof StageFailed
                || s.event() instanceof BuildFailed);
        boolean synced = events.stream().anyMatch(s -> s.event() instanceof RepoSynced);
        boolean health = events.stream().anyMatch(s -> s.event() instanceof ReleaseHealthy
                || s.event() instanceof ReleaseDegraded);
        return failed || synced && health;
    }

    void check() {
        if (failure != null) {
            throw new IllegalStateException("the run collector stopped: " + failure.getMessage(), failure);
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        thread.join(5_000);
    }
}
