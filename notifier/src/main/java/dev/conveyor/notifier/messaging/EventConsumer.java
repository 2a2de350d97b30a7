package dev.conveyor.notifier.messaging;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import org.jboss.logging.Logger;

import dev.conveyor.events.kafka.ConveyorEventDeserializer;
import dev.conveyor.events.v1.CloudEventAttributes;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.EventType;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.notifier.service.KafkaStateLog;
import dev.conveyor.notifier.service.NotifierService;
import dev.conveyor.notifier.service.StateStore;

/**
 * The Kafka edge: every event topic in, through ONE consumer in ONE group ({@code conveyor-notifier}), so that the
 * range assignor gives partition {@code p} of every event topic to the same replica — the topics have the same
 * partition count and the same key (the app), so a run's events are all in partition index {@code p}. The replica that
 * owns {@code p} holds the state of its runs: on assignment it reads partition {@code p} of the compacted state topic
 * {@value #STATE_TOPIC} before it handles any record, and on revocation it commits what it handled and stops writing
 * that state. A record's offset is committed only after its state (calls to make, the folded run) is written to the
 * state topic; the calls themselves are made by the provider workers, so a slow provider never holds up consumption.
 * Unreadable records are dead-lettered to {@code <topic>.dlq.notifier} with their reason.
 * <p>
 * A plain {@link KafkaConsumer} rather than SmallRye channels: one poll loop sees the assignment, the records and the
 * commits in one thread, so restoring before processing and committing after writing need no coordination.
 */
public final class EventConsumer implements AutoCloseable {

    /** The notifier's compacted state topic, partitioned like the event topics. */
    public static final String STATE_TOPIC = "conveyor.notifier.state";
    /** The consumer group of every notifier replica. */
    public static final String GROUP_ID = "conveyor-notifier";
    /** Every event topic. */
    public static final List<String> TOPICS = Arrays.stream(EventType.values()).map(EventType::topic).toList();

    private static final Logger LOG = Logger.getLogger(EventConsumer.class);
    private static final Duration RETRY_AFTER = Duration.ofSeconds(1);

    /**
     * @param bootstrapServers the brokers
     * @param groupId the consumer group shared by every replica
     * @param stateTopic the compacted state topic
     * @param retention how long a run's state is kept after its last event
     * @param restoreTimeout longest a partition's state may take to read
     * @param legacyJournal the journal file of the versions before this one, read once into the state topic
     * @param clients Kafka client settings over the defaults (consumer, producer and admin alike)
     */
    /** A key of {@link Settings#clients()}: put before the client ids, so that a group's members name their process. */
    public static final String CLIENT_ID_PREFIX = "client.id.prefix";

    public record Settings(String bootstrapServers, String groupId, String stateTopic, Duration retention,
            Duration restoreTimeout, Optional<Path> legacyJournal, Map<String, Object> clients) {
    }

    private final NotifierService notifier;
    private final Settings settings;
    private final Clock clock;
    private final KafkaConsumer<String, byte[]> consumer;
    private final KafkaConsumer<String, byte[]> restorer;
    private final KafkaProducer<String, byte[]> producer;
    private final Admin admin;
    private final ConveyorEventDeserializer events = new ConveyorEventDeserializer();
    private final Map<TopicPartition, OffsetAndMetadata> handled = new HashMap<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile boolean prepared;
    private volatile boolean polling;
    private volatile RuntimeException failure;
    private volatile Set<Integer> owned = Set.of();

    private EventConsumer(NotifierService notifier, Settings settings, Clock clock) {
        this.notifier = notifier;
        this.settings = settings;
        this.clock = clock;
        this.consumer = new KafkaConsumer<>(consumerConfig(settings, true));
        this.restorer = new KafkaConsumer<>(consumerConfig(settings, false));
        this.producer = new KafkaProducer<>(producerConfig(settings));
        Map<String, Object> adminConfig = new HashMap<>();
        settings.clients().forEach((k, v) -> {
            if (AdminClientConfig.configNames().contains(k) && !k.equals(AdminClientConfig.CLIENT_ID_CONFIG)) {
                adminConfig.put(k, v);
            }
        });
        adminConfig.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        adminConfig.put(AdminClientConfig.CLIENT_ID_CONFIG, prefix(settings) + "conveyor-notifier-admin");
        this.admin = Admin.create(adminConfig);
        this.thread = new Thread(this::loop, "notifier-events");
    }

    /**
     * Starts consuming on its own thread, which first prepares the state topic (and reads an old journal into it):
     * the caller does not wait for the broker ({@link #ready()} says when that is done).
     */
    public static EventConsumer start(NotifierService notifier, Settings settings, Clock clock) {
        EventConsumer c = new EventConsumer(notifier, settings, clock);
        c.thread.start();
        return c;
    }

    /** Whether the loop runs (false once it stopped on an error, also one preparing the state topic). */
    public boolean alive() {
        return thread.isAlive() && failure == null;
    }

    /**
     * Whether the state topic is prepared (created or grown, an old journal read into it) and the loop runs. Records are
     * handled only after that, and each partition's only once its state is read.
     */
    public boolean ready() {
        return prepared && alive();
    }

    /** Whether the state topic is prepared (created or grown, an old journal read into it). */
    public boolean prepared() {
        return prepared;
    }

    /** Whether the consumer has polled at least once (joined its group). */
    public boolean polling() {
        return polling;
    }

    /** The partition indexes whose state this replica holds, once their state is read. */
    public Set<Integer> partitions() {
        return owned;
    }

    /** Why the loop stopped, if it stopped on an error. */
    public Optional<RuntimeException> failure() {
        return Optional.ofNullable(failure);
    }

    private void loop() {
        try {
            // Here rather than before the service is up: it waits for the broker (up to 30 s when it is down, then
            // the loop stops on the error and the health checks are down).
            int partitions = ensureStateTopic();
            settings.legacyJournal().ifPresent(journal -> migrate(journal, partitions));
            prepared = true;
            consumer.subscribe(TOPICS, new Rebalance());
            while (running) {
                Set<TopicPartition> again = new HashSet<>();
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    if (again.contains(tp)) {
                        continue;
                    }
                    if (handle(r)) {
                        handled.put(tp, new OffsetAndMetadata(r.offset() + 1));
                    } else {
                        // nothing written, nothing dead-lettered: read it again, after what is before it is committed
                        consumer.seek(tp, r.offset());
                        again.add(tp);
                    }
                }
                polling = true;
                commit();
                if (!again.isEmpty()) {
                    Thread.sleep(RETRY_AFTER.toMillis());
                }
            }
        } catch (WakeupException e) {
            if (running) {
                failure = e;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            if (running) {
                LOG.errorf("the notifier's event consumer stopped: %s", e.getMessage());
            }
            failure = e;
        } finally {
            try {
                // leaves the group at once: the partitions move to the other replicas without a session timeout
                consumer.close(Duration.ofSeconds(10));
            } catch (RuntimeException e) {
                LOG.warnf("closing the notifier's event consumer: %s", e.getMessage());
            }
            notifier.partitions().forEach(notifier::close);
        }
    }

    /** @return {@code false} when the record must be read again (its state could not be written, nor dead-lettered) */
    private boolean handle(ConsumerRecord<String, byte[]> r) {
        ConveyorEvent event;
        try {
            event = events.deserialize(r.topic(), r.headers(), r.value());
        } catch (RuntimeException e) {
            notifier.unreadable();
            return deadLetter(r, e.getMessage());
        }
        if (event == null) {
            notifier.unreadable();
            return deadLetter(r, "a record without a value");
        }
        String id = header(r, "ce_id").orElseGet(() -> CloudEventAttributes.idOf(event));
        try {
            notifier.accept(event, id, r.partition());
            return true;
        } catch (RuntimeException e) {
            // the state could not be written: nothing was promised, the record goes to the dead-letter topic
            LOG.errorf("app %s run %s: cannot record event %s: %s", event.run().app(), event.run().runId(), id,
                    e.getMessage());
            return deadLetter(r, e.getMessage());
        }
    }

    private boolean deadLetter(ConsumerRecord<String, byte[]> r, String reason) {
        RecordHeaders headers = new RecordHeaders(r.headers().toArray());
        headers.add("dead-letter-reason", bytes(reason == null ? "unknown" : reason));
        headers.add("dead-letter-topic", bytes(r.topic()));
        headers.add("dead-letter-partition", bytes(Integer.toString(r.partition())));
        headers.add("dead-letter-offset", bytes(Long.toString(r.offset())));
        String topic = Topics.deadLetter(r.topic(), Stage.NOTIFIER);
        try {
            producer.send(new ProducerRecord<>(topic, null, r.key(), r.value(), headers)).get(30, TimeUnit.SECONDS);
            LOG.warnf("%s-%d@%d dead-lettered to %s: %s", r.topic(), r.partition(), r.offset(), topic, reason);
            return true;
        } catch (ExecutionException | TimeoutException e) {
            LOG.errorf("cannot dead-letter %s-%d@%d to %s: %s", r.topic(), r.partition(), r.offset(), topic,
                    e.getMessage());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void commit() {
        if (handled.isEmpty()) {
            return;
        }
        consumer.commitSync(handled);
        handled.clear();
    }

    /** Runs in the poll thread, inside {@code poll}: no record of a partition is handled before its state is read. */
    private final class Rebalance implements ConsumerRebalanceListener {

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            try {
                commit();
            } catch (RuntimeException e) {
                // the records are read again by the next owner, which finds them folded into the state
                LOG.warnf("committing before a rebalance: %s", e.getMessage());
                handled.clear();
            }
            release(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            handled.clear();
            release(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            Set<Integer> indexes = new TreeSet<>();
            partitions.forEach(tp -> indexes.add(tp.partition()));
            if (indexes.isEmpty()) {
                return;
            }
            ensureStateTopic();
            for (int p : indexes) {
                if (notifier.partitions().contains(p)) {
                    continue;
                }
                long begin = System.nanoTime();
                List<StateStore.Change> changes = KafkaStateLog.read(restorer, settings.stateTopic(), p,
                        settings.restoreTimeout());
                StateStore store = StateStore.restore(new KafkaStateLog(producer, settings.stateTopic(), p), changes,
                        settings.retention(), clock);
                notifier.open(p, store);
                LOG.infof("partition %d: state of %d runs read (%d records) in %d ms", p, store.runCount(),
                        changes.size(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin));
            }
            startFromOldGroups(partitions);
            owned = notifier.partitions();
        }

        private void release(Collection<TopicPartition> partitions) {
            Set<Integer> indexes = new HashSet<>();
            partitions.forEach(tp -> indexes.add(tp.partition()));
            indexes.forEach(notifier::close);
            owned = notifier.partitions();
        }
    }

    /**
     * A partition the group never committed starts where the group of its topic in the version before (one group per
     * topic) stopped, so an upgrade does not read every topic again from its beginning.
     */
    private void startFromOldGroups(Collection<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(new HashSet<>(partitions));
        Map<String, List<TopicPartition>> fresh = new TreeMap<>();
        partitions.stream().filter(tp -> committed.get(tp) == null)
                .forEach(tp -> fresh.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp));
        for (Map.Entry<String, List<TopicPartition>> e : fresh.entrySet()) {
            String oldGroup = "conveyor-notifier-" + e.getKey().substring("conveyor.".length()).replace('.', '-');
            try {
                Map<TopicPartition, OffsetAndMetadata> old = admin.listConsumerGroupOffsets(oldGroup)
                        .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
                for (TopicPartition tp : e.getValue()) {
                    OffsetAndMetadata o = old.get(tp);
                    if (o != null) {
                        consumer.seek(tp, o.offset());
                        LOG.infof("%s starts at offset %d, where the group %s stopped", tp, o.offset(), oldGroup);
                    }
                }
            } catch (ExecutionException | TimeoutException e1) {
                LOG.debugf("no offsets of the old group %s: %s", oldGroup, e1.getMessage());
            } catch (InterruptedException e1) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Makes sure the state topic exists, compacted, with at least as many partitions as the event topics, and that the
     * event topics that exist have one partition count (else a run's events would not share a partition index).
     *
     * @return the event topics' partition count (1 when none exists yet)
     */
    private int ensureStateTopic() {
        // one request for the event topics and the state topic
        List<String> topics = new ArrayList<>(TOPICS);
        topics.add(settings.stateTopic());
        Map<String, Integer> counts = partitionCounts(topics);
        Integer state = counts.remove(settings.stateTopic());
        Set<Integer> distinct = new HashSet<>(counts.values());
        if (distinct.size() > 1) {
            throw new IllegalStateException("the notifier needs every event topic to have the same number of "
                    + "partitions (a run's events share a partition index only then): " + new TreeMap<>(counts));
        }
        int partitions = distinct.isEmpty() ? 1 : distinct.iterator().next();
        try {
            if (state == null) {
                admin.createTopics(List.of(new NewTopic(settings.stateTopic(), Optional.of(partitions),
                        Optional.empty()).configs(KafkaStateLog.topicConfig()))).all().get(30, TimeUnit.SECONDS);
                LOG.infof("created the state topic %s with %d partitions", settings.stateTopic(), partitions);
            } else if (state < partitions) {
                // state is addressed by partition index, not by key hash: more partitions move nothing
                admin.createPartitions(Map.of(settings.stateTopic(), NewPartitions.increaseTo(partitions))).all()
                        .get(30, TimeUnit.SECONDS);
                LOG.infof("grew the state topic %s to %d partitions", settings.stateTopic(), partitions);
            }
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("cannot create the notifier's state topic " + settings.stateTopic()
                        + " (compacted, " + partitions + " partitions): " + e.getCause().getMessage(), e.getCause());
            }
        } catch (TimeoutException e) {
            throw new IllegalStateException("timed out creating the notifier's state topic " + settings.stateTopic(),
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        return partitions;
    }

    private Map<String, Integer> partitionCounts(List<String> topics) {
        Map<String, Integer> counts = new TreeMap<>();
        Map<String, KafkaFuture<TopicDescription>> described = admin.describeTopics(topics).topicNameValues();
        for (Map.Entry<String, KafkaFuture<TopicDescription>> e : described.entrySet()) {
            try {
                counts.put(e.getKey(), e.getValue().get(30, TimeUnit.SECONDS).partitions().size());
            } catch (ExecutionException ex) {
                if (!(ex.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw new IllegalStateException("cannot describe " + e.getKey() + ": " + ex.getCause()
                            .getMessage(), ex.getCause());
                }
            } catch (TimeoutException ex) {
                throw new IllegalStateException("timed out describing " + e.getKey(), ex);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", ex);
            }
        }
        return counts;
    }

    /**
     * Reads the journal file of the version before this one into the state topic, each run into the partition its app
     * key goes to (a run only named by a sync so far, without an app, into every partition), then renames the file so
     * it is read once.
     */
    private void migrate(Path journal, int partitions) {
        if (!Files.isRegularFile(journal)) {
            return;
        }
        List<StateStore.Change> changes;
        try (StateStore old = StateStore.open(journal.getParent(), settings.retention(), clock)) {
            changes = old.snapshot();
        }
        Map<Integer, List<StateStore.Change>> byPartition = new TreeMap<>();
        for (StateStore.Change c : changes) {
            String app = c.value().run() != null
                    ? c.value().run().app
                    : c.value().delivery() != null ? c.value().delivery().app() : null;
            if (app == null) {
                for (int p = 0; p < partitions; p++) {
                    byPartition.computeIfAbsent(p, k -> new ArrayList<>()).add(c);
                }
            } else {
                byPartition.computeIfAbsent(partitionOf(app, partitions), k -> new ArrayList<>()).add(c);
            }
        }
        byPartition.forEach((p, list) -> new KafkaStateLog(producer, settings.stateTopic(), p).write(list));
        try {
            Files.move(journal, journal.resolveSibling(journal.getFileName() + ".migrated"),
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot rename the migrated journal " + journal, e);
        }
        LOG.infof("read the journal %s into %s (%d values); renamed it to %s.migrated", journal,
                settings.stateTopic(), changes.size(), journal.getFileName());
    }

    /** The partition Kafka's default partitioner gives a record keyed by the app. */
    static int partitionOf(String app, int partitions) {
        return Utils.toPositive(Utils.murmur2(app.getBytes(StandardCharsets.UTF_8))) % partitions;
    }

    private static Optional<String> header(ConsumerRecord<?, ?> r, String key) {
        Header h = r.headers().lastHeader(key);
        return h == null || h.value() == null
                ? Optional.empty()
                : Optional.of(new String(h.value(), StandardCharsets.UTF_8));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static Map<String, Object> consumerConfig(Settings s, boolean group) {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrapServers());
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.RECONNECT_BACKOFF_MS_CONFIG, 200);
        c.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 5000);
        c.put(ConsumerConfig.RETRY_BACKOFF_MS_CONFIG, 200);
        c.put(ConsumerConfig.RETRY_BACKOFF_MAX_MS_CONFIG, 5000);
        if (group) {
            c.put(ConsumerConfig.GROUP_ID_CONFIG, s.groupId());
            c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            // partition p of every topic to one member: the co-partitioning the state relies on
            c.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, RangeAssignor.class.getName());
            // a dead replica's partitions move within ~10 s, not the 45 s default
            c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
            c.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 3_000);
            // a record can wait for a git fetch (.conveyor.yaml) and a state write: keep a poll's work short
            c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 100);
            c.put(ConsumerConfig.CLIENT_ID_CONFIG, prefix(s) + "conveyor-notifier-events");
        } else {
            c.put(ConsumerConfig.CLIENT_ID_CONFIG, prefix(s) + "conveyor-notifier-state-restore");
        }
        s.clients().forEach((k, v) -> {
            if (ConsumerConfig.configNames().contains(k) && (group || !k.equals(ConsumerConfig.GROUP_ID_CONFIG))) {
                c.put(k, v);
            }
        });
        return c;
    }

    private static String prefix(Settings s) {
        return String.valueOf(s.clients().getOrDefault(CLIENT_ID_PREFIX, ""));
    }

    private static Map<String, Object> producerConfig(Settings s) {
        Map<String, Object> c = new HashMap<>();
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrapServers());
        c.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        c.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        c.put(ProducerConfig.ACKS_CONFIG, "all");
        c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        c.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 300_000);
        c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 180_000);
        c.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        c.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 4 * 1024 * 1024);
        c.put(ProducerConfig.RECONNECT_BACKOFF_MS_CONFIG, 200);
        c.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 5000);
        c.put(ProducerConfig.CLIENT_ID_CONFIG, prefix(s) + "conveyor-notifier-state");
        s.clients().forEach((k, v) -> {
            if (ProducerConfig.configNames().contains(k)) {
                c.put(k, v);
            }
        });
        return c;
    }

    /** Stops consuming: commits what was handled, leaves the group, and stops writing state. */
    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        if (!prepared) {
            // still preparing the state topic (a broker that does not answer): end the admin's wait, not after 30 s
            admin.close(Duration.ZERO);
        }
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeClients();
    }

    private void closeClients() {
        for (AutoCloseable c : List.<AutoCloseable>of(restorer, producer, admin)) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.debugf("closing a Kafka client: %s", e.getMessage());
            }
        }
    }
}
