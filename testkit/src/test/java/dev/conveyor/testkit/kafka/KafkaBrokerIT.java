package dev.conveyor.testkit.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.smallrye.reactive.messaging.kafka.companion.ConsumerTask;
import io.smallrye.reactive.messaging.kafka.companion.KafkaCompanion;

class KafkaBrokerIT {

    @Test
    void inProcessBrokerDeliversWhatWasProduced() {
        try (KafkaBroker broker = KafkaBroker.start(); KafkaCompanion companion = broker.companion()) {
            System.out.printf("in-process Kafka broker started in %d ms%n", broker.startupTime().toMillis());
            assertProducedRecordsAreConsumed(companion, "testkit.in-process");
        }
    }

    @Test
    void brokerProcessDeliversWhatWasProducedAndKeepsItsLogAcrossRestarts(@TempDir Path dir) {
        String topic = "testkit.process";
        try (KafkaBrokerProcess broker = KafkaBrokerProcess.start(dir, Duration.ofSeconds(90));
                KafkaCompanion companion = new KafkaCompanion(broker.bootstrapServers())) {
            System.out.printf("Kafka broker process started in %d ms%n", broker.startupTime().toMillis());
            assertProducedRecordsAreConsumed(companion, topic);
        }

        try (KafkaBrokerProcess restarted = KafkaBrokerProcess.start(dir, Duration.ofSeconds(90));
                KafkaCompanion companion = new KafkaCompanion(restarted.bootstrapServers())) {
            ConsumerTask<String, String> again = companion.consumeStrings().fromTopics(topic, 3)
                    .awaitCompletion(Duration.ofSeconds(30));
            assertThat(again.getRecords()).extracting(r -> r.value()).containsExactly("a", "b", "c");
        }
        assertThat(dir.resolve("broker.log")).isNotEmptyFile();
    }

    private static void assertProducedRecordsAreConsumed(KafkaCompanion companion, String topic) {
        companion.produceStrings()
                .fromRecords(List.of(new ProducerRecord<>(topic, "app", "a"), new ProducerRecord<>(topic, "app", "b"),
                        new ProducerRecord<>(topic, "app", "c")))
                .awaitCompletion(Duration.ofSeconds(30));
        ConsumerTask<String, String> consumed = companion.consumeStrings().fromTopics(topic, 3)
                .awaitCompletion(Duration.ofSeconds(30));
        assertThat(consumed.getRecords()).extracting(r -> r.key()).containsOnly("app");
        assertThat(consumed.getRecords()).extracting(r -> r.value()).containsExactly("a", "b", "c");
    }
}
