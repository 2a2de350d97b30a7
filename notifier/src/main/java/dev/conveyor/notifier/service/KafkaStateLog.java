package dev.conveyor.notifier.service;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * One partition of the notifier's compacted state topic: the values of the runs whose events are in the same partition
 * of the event topics (same partition count, same key: the app). Keys are {@code run/<runId>}, {@code call/<id>},
 * {@code handled/<eventId>}; a tombstone deletes a key, and compaction keeps the latest value of each. A write waits for
 * the broker's acknowledgement ({@code acks=all}, idempotent producer), so the input record is committed only after it.
 */
public final class KafkaStateLog implements StateStore.Log {

    private final Producer<String, byte[]> producer;
    private final String topic;
    private final int partition;

    public KafkaStateLog(Producer<String, byte[]> producer, String topic, int partition) {
        this.producer = producer;
        this.topic = topic;
        this.partition = partition;
    }

    @Override
    public void write(List<StateStore.Change> changes) {
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try {
            for (StateStore.Change c : changes) {
                byte[] value = c.value() == null ? null : StateStore.JSON.writeValueAsBytes(c.value());
                sent.add(producer.send(new ProducerRecord<>(topic, partition, c.key(), value)));
            }
            for (Future<RecordMetadata> f : sent) {
                f.get();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode the notifier state", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted writing the notifier state to " + topic + "-" + partition, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot write the notifier state to " + topic + "-" + partition + ": "
                    + e.getCause().getMessage(), e.getCause());
        }
    }

    /**
     * Reads the partition from its beginning to the end it has now. The consumer is assigned only this partition for
     * the read.
     *
     * @return the values in log order, oldest first (a tombstone as a {@code null} value)
     */
    public static List<StateStore.Change> read(Consumer<String, byte[]> consumer, String topic, int partition,
            Duration timeout) {
        TopicPartition tp = new TopicPartition(topic, partition);
        consumer.assign(List.of(tp));
        consumer.seekToBeginning(List.of(tp));
        long end = consumer.endOffsets(List.of(tp)).get(tp);
        List<StateStore.Change> out = new ArrayList<>();
        Instant deadline = Instant.now().plus(timeout);
        while (consumer.position(tp) < end) {
            if (Instant.now().isAfter(deadline)) {
                throw new IllegalStateException("reading the notifier state " + tp + " took longer than " + timeout);
            }
            for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                try {
                    out.add(new StateStore.Change(r.key(), r.value() == null
                            ? null
                            : StateStore.JSON.readValue(r.value(), StateStore.Entry.class)));
                } catch (IOException e) {
                    throw new UncheckedIOException("the notifier state " + tp + " is damaged at offset " + r.offset(),
                            e);
                }
            }
        }
        consumer.assign(List.of());
        return out;
    }

    /** The state topic's settings: compacted, so each key keeps its latest value and deleted keys go away. */
    public static Map<String, String> topicConfig() {
        return Map.of("cleanup.policy", "compact", "min.compaction.lag.ms", "0");
    }
}
