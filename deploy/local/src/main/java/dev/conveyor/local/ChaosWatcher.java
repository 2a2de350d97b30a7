package dev.conveyor.local;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Predicate;
import java.util.function.Supplier;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Watches every event topic live, from the moment it starts, so that the chaos suite sees a run's records as they are
 * written (to time its kills) and when its stages answer again (takeover). Survives the broker's death: it keeps
 * polling, and follows the broker to a new address when {@code stack.properties} names one.
 */
final class ChaosWatcher implements AutoCloseable {

    private final Supplier<String> bootstrap;
    private final List<ChaosEvent> seen = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;

    ChaosWatcher(Supplier<String> bootstrap) {
        this.bootstrap = bootstrap;
        this.thread = new Thread(this::loop, "chaos-watcher");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private void loop() {
        Map<TopicPartition, Long> positions = new HashMap<>();
        boolean first = true;
        while (running) {
            String servers = bootstrap.get();
            Properties props = new Properties();
            props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
            props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "10");
            props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            props.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                    new ByteArrayDeserializer())) {
                List<TopicPartition> partitions = ChaosProbe.partitions(consumer);
                consumer.assign(partitions);
                if (first) {
                    consumer.seekToEnd(partitions);
                    partitions.forEach(consumer::position);
                    first = false;
                    markStarted();
                } else {
                    for (TopicPartition p : partitions) {
                        Long at = positions.get(p);
                        if (at != null) {
                            consumer.seek(p, at);
                        } else {
                            consumer.seekToBeginning(List.of(p));
                        }
                    }
                }
                long lastCheck = System.nanoTime();
                while (running) {
                    var records = consumer.poll(Duration.ofMillis(20));
                    if (!records.isEmpty()) {
                        List<ChaosEvent> batch = new ArrayList<>();
                        records.forEach(r -> {
                            positions.put(new TopicPartition(r.topic(), r.partition()), r.offset() + 1);
                            ChaosProbe.toEvent(r).ifPresent(batch::add);
                        });
                        synchronized (this) {
                            seen.addAll(batch);
                            notifyAll();
                        }
                    }
                    if (System.nanoTime() - lastCheck > Duration.ofSeconds(2).toNanos()) {
                        lastCheck = System.nanoTime();
                        if (!servers.equals(bootstrap.get())) {
                            break;
                        }
                    }
                }
            } catch (RuntimeException e) {
                // The broker is gone or moved: try again with what stack.properties says now.
                pause(500);
            }
        }
    }

    /** Blocks until the watcher has found the end of every topic (what it sees from then on is new). */
    synchronized void awaitStarted(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (thread.isAlive() && System.nanoTime() < deadline && !started()) {
            try {
                wait(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private volatile boolean startedFlag;

    private boolean started() {
        return startedFlag;
    }

    /** Marks the watcher as positioned; called by the loop. */
    synchronized void markStarted() {
        startedFlag = true;
        notifyAll();
    }

    /** The first record seen that matches, waiting up to {@code timeout}. */
    synchronized Optional<ChaosEvent> await(Predicate<ChaosEvent> match, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<ChaosEvent> found = seen.stream().filter(match).findFirst();
            if (found.isPresent()) {
                return found;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return Optional.empty();
            }
            try {
                wait(Math.max(1, Math.min(left / 1_000_000, 100)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        }
    }

    /** Whether the condition holds on everything seen, waiting up to {@code timeout}. */
    synchronized boolean awaitAll(Predicate<List<ChaosEvent>> condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.test(seen)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            try {
                wait(Math.max(1, Math.min(left / 1_000_000, 100)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    synchronized List<ChaosEvent> seen() {
        return List.copyOf(seen);
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        running = false;
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
