package dev.conveyor.gateway.messaging;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.jboss.logging.Logger;

import dev.conveyor.events.kafka.ConveyorEventDeserializer;
import dev.conveyor.events.v1.CloudEventAttributes;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.EventType;
import dev.conveyor.gateway.domain.RecordedEvent;
import dev.conveyor.gateway.domain.ReplayAudit;
import dev.conveyor.gateway.domain.Step;

/**
 * Reads every Conveyor topic, and the run history topic, for as long as the gateway runs, and hands each event and
 * each run snapshot to the read model.
 *
 * <p>
 * Unlike a stage, the read model uses no consumer group: it assigns itself every partition (nothing committed to
 * Kafka) and starts each one where the read model's own store says it stopped ({@code start}), or from the beginning
 * for a partition it never read (or whose stored position the retention has since deleted). After each poll it hands
 * the position of every partition to {@link Sink#polled}, which stores it with what was folded. Topics that do not
 * exist yet are looked for again every {@code topic-refresh}. A record it cannot read is logged and skipped: the stage
 * that consumes the topic dead-letters it; the read model only observes.
 */
public final class EventLogReader implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(EventLogReader.class);

    /** Header of a run snapshot naming the replica store that wrote it. */
    public static final String WRITER_HEADER = "conveyor-writer";

    private final Map<String, Object> kafka;
    private final Duration pollTimeout;
    private final Duration topicRefresh;
    private final Sink sink;
    private final Runnable onCaughtUp;
    private final String historyTopic;
    private final Map<TopicPartition, Long> start;
    private final AtomicLong recordsRead = new AtomicLong();
    private final AtomicLong eventRecordsRead = new AtomicLong();
    private final ConveyorEventDeserializer deserializer = new ConveyorEventDeserializer();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile KafkaConsumer<String, byte[]> consumer;

    /** Receives each readable event and whether it is live, each run snapshot, and where each poll ended. */
    @FunctionalInterface
    public interface Sink {
        /**
         * @param recorded the event
         * @param live whether it was read beyond where its partition ended when the reader started (a partition found
         *     later is live from its beginning): history read again after a restart is not live
         */
        void accept(RecordedEvent recorded, boolean live);

        /**
         * A record of the run history topic: the run's id, its snapshot ({@code RunSnapshot}) and who wrote it (the
         * {@link #WRITER_HEADER} header, null when absent).
         */
        default void snapshot(String runId, byte[] snapshot, String writer) {
        }

        /**
         * Called after the records of each poll were handed over, with the next offset of every assigned partition:
         * where a restart resumes once these records are stored.
         */
        default void polled(Map<TopicPartition, Long> positions) {
        }
    }

    /**
     * @param bootstrapServers the brokers
     * @param extra further consumer properties (security settings)
     * @param pollTimeout how long one poll waits
     * @param topicRefresh how often missing topics and new partitions are looked for
     * @param sink receives every readable event, in log order per partition, and whether it is live
     * @param onCaughtUp called once, when every partition has been read up to where it ended at start
     */
    public EventLogReader(String bootstrapServers, Map<String, Object> extra, Duration pollTimeout,
            Duration topicRefresh, Sink sink, Runnable onCaughtUp) {
        this(bootstrapServers, extra, pollTimeout, topicRefresh, sink, onCaughtUp, null, Map.of());
    }

    /**
     * @param historyTopic the run history topic, also read (null: none)
     * @param start where to start each partition already read before (the others start from the beginning)
     */
    public EventLogReader(String bootstrapServers, Map<String, Object> extra, Duration pollTimeout,
            Duration topicRefresh, Sink sink, Runnable onCaughtUp, String historyTopic,
            Map<TopicPartition, Long> start) {
        Map<String, Object> props = new HashMap<>(extra);
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "conveyor-gateway-read-model");
        // A stored position the retention has deleted since: start from what is left.
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        // Small polls: while catching up, partitions are read in step by record time (see align), and one poll of
        // one partition should not run far ahead of the others.
        props.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        props.putIfAbsent(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 256 * 1024);
        this.kafka = Map.copyOf(props);
        this.historyTopic = historyTopic;
        this.start = Map.copyOf(start);
        this.pollTimeout = pollTimeout;
        this.topicRefresh = topicRefresh;
        this.sink = sink;
        this.onCaughtUp = onCaughtUp;
        this.thread = new Thread(this::loop, "conveyor-gateway-read-model");
        this.thread.setDaemon(true);
    }

    /** Every topic the read model folds. */
    public static List<String> topics() {
        List<String> topics = new ArrayList<>();
        for (EventType type : EventType.values()) {
            topics.add(type.topic());
        }
        return topics;
    }

    /** How many records were read since start (events, snapshots and unreadable ones). */
    public long recordsRead() {
        return recordsRead.get();
    }

    /** How many records of the event topics (not the history topic) were read since start. */
    public long eventRecordsRead() {
        return eventRecordsRead.get();
    }

    public EventLogReader start() {
        thread.start();
        return this;
    }

    private void loop() {
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(kafka, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            consumer = c;
            Set<TopicPartition> assigned = new HashSet<>();
            Map<TopicPartition, Long> endAtStart = null;
            Map<TopicPartition, Long> heads = new HashMap<>();
            long nextRefresh = 0;
            boolean caughtUp = false;
            while (running) {
                if (System.nanoTime() >= nextRefresh) {
                    boolean listed = refresh(c, assigned);
                    nextRefresh = System.nanoTime() + (listed ? topicRefresh.toNanos() : 0);
                    // Not before the broker answered: an unreachable broker is not an empty log.
                    if (endAtStart == null && listed) {
                        endAtStart = c.endOffsets(assigned);
                    }
                }
                // Before polling: a poll with nothing to read waits the whole poll timeout, and a log already read to
                // its end (a restart with nothing new, empty topics) must not hold readiness up for that.
                if (!caughtUp && endAtStart != null && reached(c, endAtStart)) {
                    caughtUp = caughtUp(c, endAtStart, heads);
                }
                if (assigned.isEmpty()) {
                    pause(); // no topic exists yet: nothing to poll
                } else {
                    var records = c.poll(pollTimeout);
                    for (ConsumerRecord<String, byte[]> record : records) {
                        recordsRead.incrementAndGet();
                        if (!caughtUp) {
                            heads.put(new TopicPartition(record.topic(), record.partition()), record.timestamp());
                        }
                        if (record.topic().equals(historyTopic)) {
                            if (record.key() != null && record.value() != null) {
                                sink.snapshot(record.key(), record.value(), header(record.headers(), WRITER_HEADER));
                            }
                            continue;
                        }
                        eventRecordsRead.incrementAndGet();
                        Long end = endAtStart == null
                                ? null
                                : endAtStart.get(new TopicPartition(record.topic(), record.partition()));
                        decode(record, end == null || record.offset() >= end);
                    }
                    Map<TopicPartition, Long> positions = new HashMap<>();
                    for (TopicPartition tp : assigned) {
                        positions.put(tp, c.position(tp));
                    }
                    sink.polled(positions);
                }
                if (!caughtUp && endAtStart != null && !assigned.isEmpty()) {
                    align(c, assigned, endAtStart, heads);
                }
                if (!caughtUp && endAtStart != null && reached(c, endAtStart)) {
                    caughtUp = caughtUp(c, endAtStart, heads);
                }
            }
        } catch (WakeupException e) {
            if (running) {
                throw e;
            }
        } catch (RuntimeException e) {
            LOG.error("the run read model stopped reading the event log", e);
        }
    }

    private boolean caughtUp(KafkaConsumer<String, byte[]> c, Map<TopicPartition, Long> endAtStart,
            Map<TopicPartition, Long> heads) {
        c.resume(c.paused());
        heads.clear();
        LOG.infof("read model caught up with the event log (%d partitions)", endAtStart.size());
        onCaughtUp.run();
        return true;
    }

    private void pause() {
        try {
            Thread.sleep(pollTimeout.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /** @return whether the broker listed its topics (false: unreachable, nothing changed) */
    private boolean refresh(KafkaConsumer<String, byte[]> c, Set<TopicPartition> assigned) {
        List<String> topics = topics();
        if (historyTopic != null) {
            topics.add(historyTopic);
        }
        // One metadata request for every topic (as a pattern subscription makes), not one round trip per topic: at
        // start this is on the way to readiness.
        Map<String, List<PartitionInfo>> existing;
        try {
            existing = c.listTopics(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            LOG.debugf("topics not readable yet: %s", e.getMessage());
            return false;
        }
        List<TopicPartition> added = new ArrayList<>();
        for (String topic : topics) {
            for (PartitionInfo p : existing.getOrDefault(topic, List.of())) {
                TopicPartition tp = new TopicPartition(p.topic(), p.partition());
                if (assigned.add(tp)) {
                    added.add(tp);
                }
            }
        }
        if (!added.isEmpty()) {
            c.assign(assigned);
            List<TopicPartition> fresh = new ArrayList<>();
            for (TopicPartition tp : added) {
                Long from = start.get(tp);
                if (from == null) {
                    fresh.add(tp);
                } else {
                    c.seek(tp, from);
                }
            }
            if (!fresh.isEmpty()) {
                c.seekToBeginning(fresh); // never with an empty list: that would rewind every assigned partition
            }
        }
        return true;
    }

    /**
     * While catching up, reads the partitions in step by record time, like a merge: a partition still short of where
     * it ended at start is paused while the last record read from it is newer than that of another such partition,
     * and resumed once the others have caught up with it. The log interleaves runs across topics, so this hands the
     * read model a run's events close together (a run's events are minutes apart, not days), while its timeline is
     * still in memory; reading each partition as fast as it comes would spread them over a window that grows with the
     * log. A partition never read yet counts as the oldest, so every partition is always read up to its end.
     */
    private static void align(KafkaConsumer<String, byte[]> c, Set<TopicPartition> assigned,
            Map<TopicPartition, Long> endAtStart, Map<TopicPartition, Long> heads) {
        long low = Long.MAX_VALUE;
        List<TopicPartition> behind = new ArrayList<>();
        for (TopicPartition tp : assigned) {
            Long end = endAtStart.get(tp);
            if (end != null && c.position(tp) < end) {
                behind.add(tp);
                low = Math.min(low, heads.getOrDefault(tp, Long.MIN_VALUE));
            }
        }
        Set<TopicPartition> paused = c.paused();
        List<TopicPartition> pause = new ArrayList<>();
        List<TopicPartition> resume = new ArrayList<>();
        for (TopicPartition tp : assigned) {
            boolean ahead = behind.contains(tp) && heads.getOrDefault(tp, Long.MIN_VALUE) > low + ALIGN_SLACK_MS;
            if (ahead && !paused.contains(tp)) {
                pause.add(tp);
            } else if (!ahead && paused.contains(tp)) {
                resume.add(tp);
            }
        }
        if (!pause.isEmpty()) {
            c.pause(pause);
        }
        if (!resume.isEmpty()) {
            c.resume(resume);
        }
    }

    /** How far (record time) a partition may be read ahead of the oldest while catching up. */
    private static final long ALIGN_SLACK_MS = 0;

    private static boolean reached(KafkaConsumer<String, byte[]> c, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (c.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    private void decode(ConsumerRecord<String, byte[]> record, boolean live) {
        ConveyorEvent event;
        try {
            event = deserializer.deserialize(record.topic(), record.headers(), record.value());
        } catch (RuntimeException e) {
            LOG.warnf("skipping unreadable record %s-%d@%d: %s", record.topic(), record.partition(), record.offset(),
                    e.getMessage());
            return;
        }
        if (event == null) {
            return;
        }
        String id = header(record.headers(), "ce_id");
        String source = header(record.headers(), "ce_source");
        if (source == null) {
            source = Step.producerOf(event).map(s -> s.stage().source()).orElse("");
        }
        sink.accept(new RecordedEvent(id != null ? id : CloudEventAttributes.idOf(event), source, event,
                audit(record.headers(), event)), live);
    }

    /** The replay audit a re-published event carries (CloudEvents extension attributes), if any and readable. */
    static ReplayAudit audit(Headers headers, ConveyorEvent event) {
        String by = header(headers, ReplayAudit.HEADER_PREFIX + ReplayAudit.BY);
        String at = header(headers, ReplayAudit.HEADER_PREFIX + ReplayAudit.AT);
        String from = header(headers, ReplayAudit.HEADER_PREFIX + ReplayAudit.FROM);
        if (by == null || at == null || from == null) {
            return null;
        }
        try {
            return new ReplayAudit(by, Instant.parse(at), from, event.run().attempt());
        } catch (DateTimeParseException e) {
            LOG.warnf("replay audit of run %s has an unreadable time; shown without it", event.run().runId());
            return null;
        }
    }

    private static String header(Headers headers, String key) {
        Header h = headers.lastHeader(key);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        running = false;
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
