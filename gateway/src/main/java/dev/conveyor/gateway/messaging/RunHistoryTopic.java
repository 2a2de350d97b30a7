package dev.conveyor.gateway.messaging;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jboss.logging.Logger;

/**
 * The run history topic: compacted, one record per run (key: run id, value: the run's snapshot, every event it has),
 * so it keeps every run however short the event topics' retention, and a replica with an empty disk rebuilds from it.
 * Every replica writes a run's snapshot after the run changes; the snapshot is a pure function of the run's events,
 * so two replicas that know the same events write the same bytes, and a replica that reads a snapshot missing events it
 * knows writes the fuller one: the last record of each run converges to the union.
 */
public final class RunHistoryTopic implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(RunHistoryTopic.class);

    /** Largest snapshot written (and the topic's {@code max.message.bytes}). */
    public static final int MAX_SNAPSHOT_BYTES = 8 * 1024 * 1024;

    private final String topic;
    private final KafkaProducer<String, byte[]> producer;
    private final Duration timeout;

    /**
     * @param bootstrapServers the brokers
     * @param extra further client properties (security settings)
     * @param topic the topic's name
     * @param timeout how long a batch of snapshots may take to be acknowledged
     */
    public RunHistoryTopic(String bootstrapServers, Map<String, Object> extra, String topic, Duration timeout) {
        this.topic = topic;
        this.timeout = timeout;
        Map<String, Object> props = new HashMap<>(extra);
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_SNAPSHOT_BYTES + 1024);
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "conveyor-gateway-run-history");
        this.producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
    }

    /**
     * Creates the topic (compacted) if it does not exist; a topic made by the platform's deployment is left as it is.
     */
    public static void ensure(String bootstrapServers, Map<String, Object> extra, String topic, int partitions) {
        Map<String, Object> props = new HashMap<>(extra);
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        try (Admin admin = Admin.create(props)) {
            NewTopic t = new NewTopic(topic, Optional.of(partitions), Optional.empty())
                    .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                            TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MAX_SNAPSHOT_BYTES + 1024)));
            admin.createTopics(List.of(t)).all().get(30, TimeUnit.SECONDS);
            LOG.infof("created the run history topic %s (compacted, %d partitions)", topic, partitions);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                LOG.warnf("could not create the run history topic %s: %s", topic, e.getCause().getMessage());
            }
        } catch (TimeoutException e) {
            LOG.warnf("could not create the run history topic %s in time", topic);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * {@link #ensure} on its own thread, off the gateway's start: the read model reads the log (and the history topic,
     * once it exists) meanwhile, so the gateway is ready without waiting for the broker's answer; what waits for the
     * returned future is the first write of a snapshot, so no write can create the topic with the broker's defaults
     * (not compacted) before {@code ensure} has asked for it. The future completes once {@code ensure} has returned,
     * whatever its outcome (as before, a topic that could not be created is written to as the broker allows).
     */
    public static CompletableFuture<Void> ensureInBackground(String bootstrapServers, Map<String, Object> extra,
            String topic, int partitions) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                ensure(bootstrapServers, extra, topic, partitions);
            } finally {
                done.complete(null);
            }
        }, "conveyor-gateway-history-topic");
        t.setDaemon(true);
        t.start();
        return done;
    }

    /**
     * Writes the snapshots, marked as written by {@code writer}, and waits until the broker has acknowledged every one.
     *
     * @throws IllegalStateException when one was not acknowledged in time: none is taken as published
     */
    public void publish(Map<String, byte[]> snapshots, String writer) {
        byte[] writerBytes = writer.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        for (Map.Entry<String, byte[]> e : snapshots.entrySet()) {
            if (e.getValue().length > MAX_SNAPSHOT_BYTES) {
                LOG.errorf("run %s: its snapshot of %d bytes is over %d and is not written to %s; the run stays on "
                        + "this replica's disk only", e.getKey(), e.getValue().length, MAX_SNAPSHOT_BYTES, topic);
                continue;
            }
            ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, e.getKey(), e.getValue());
            record.headers().add(EventLogReader.WRITER_HEADER, writerBytes);
            sent.add(producer.send(record));
        }
        producer.flush();
        try {
            for (Future<RecordMetadata> f : sent) {
                f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("run snapshots not acknowledged by the broker: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing run snapshots", e);
        }
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
    }
}
