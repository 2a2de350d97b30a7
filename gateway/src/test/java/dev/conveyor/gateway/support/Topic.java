package dev.conveyor.gateway.support;

import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Serdes;

import dev.conveyor.events.kafka.ConveyorEventDeserializer;
import dev.conveyor.events.kafka.ConveyorEventSerializer;
import dev.conveyor.events.v1.ConveyorEvent;
import io.smallrye.reactive.messaging.kafka.companion.ConsumerTask;
import io.smallrye.reactive.messaging.kafka.companion.KafkaCompanion;

/** Reads what is on a topic of the real broker, from the beginning. */
public final class Topic {

    private Topic() {
    }

    public static void registerSerde(KafkaCompanion companion) {
        companion.registerSerde(ConveyorEvent.class,
                Serdes.serdeFrom(new ConveyorEventSerializer(), new ConveyorEventDeserializer()));
    }

    /** Waits until {@code topic} holds {@code count} records with key {@code key}, and returns every one of them. */
    public static List<ConsumerRecord<String, ConveyorEvent>> await(KafkaCompanion companion, String topic, String key,
            int count) {
        return awaitMatching(companion, topic, r -> key.equals(r.key()), count);
    }

    /** Waits until {@code topic} holds {@code count} records that match, and returns every one of them. */
    public static List<ConsumerRecord<String, ConveyorEvent>> awaitMatching(KafkaCompanion companion, String topic,
            Predicate<ConsumerRecord<String, ConveyorEvent>> matching, int count) {
        ConsumerTask<String, ConveyorEvent> task = companion.consume(String.class, ConveyorEvent.class)
                .fromTopics(topic);
        try {
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                    .until(() -> task.getRecords().stream().filter(matching)
                            .count() >= count);
            return task.getRecords().stream().filter(matching).toList();
        } finally {
            task.stop();
        }
    }

    public static String header(ConsumerRecord<?, ?> record, String name) {
        var header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), java.nio.charset.StandardCharsets.UTF_8);
    }
}
