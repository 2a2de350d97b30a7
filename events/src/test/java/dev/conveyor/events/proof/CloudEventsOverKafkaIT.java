package dev.conveyor.events.proof;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import dev.conveyor.events.v1.CloudEventAttributes;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.SampleEvents;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.testkit.kafka.KafkaBrokerResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kafka.InjectKafkaCompanion;
import io.smallrye.reactive.messaging.kafka.companion.ConsumerTask;
import io.smallrye.reactive.messaging.kafka.companion.KafkaCompanion;
import io.smallrye.reactive.messaging.providers.extension.HealthCenter;

/**
 * Every event type travels through SmallRye Reactive Messaging over a real Kafka broker as a binary-mode CloudEvent,
 * and arrives with its attributes and key intact; a poison record goes to the dead-letter topic with its reason while
 * the consumer stays healthy.
 */
@QuarkusTest
@QuarkusTestResource(KafkaBrokerResource.class)
class CloudEventsOverKafkaIT {

    static final String POISON = "{\"run\":{\"runId\":\"r-1\"}}";
    static final String DEAD_LETTER_TOPIC = Topics.deadLetter(Topics.IMAGE_PUSHED, Stage.NOTIFIER);

    @Inject
    ProofPublisher publisher;

    @Inject
    ProofConsumer consumer;

    @Inject
    HealthCenter health;

    @InjectKafkaCompanion
    KafkaCompanion companion;

    @Test
    void everyEventTypeArrivesWithItsAttributesAndKey() throws Exception {
        List<ConveyorEvent> events = SampleEvents.all();
        for (ConveyorEvent event : events) {
            publisher.publish(event, Stage.GATEWAY).toCompletableFuture().get(30, TimeUnit.SECONDS);
        }

        await().atMost(Duration.ofSeconds(60)).untilAsserted(
                () -> assertThat(consumer.received()).extracting(ProofConsumer.Received::event).containsAll(events));

        for (ConveyorEvent event : events) {
            ProofConsumer.Received received = consumer.received().stream()
                    .filter(r -> r.event().equals(event)).findFirst().orElseThrow();
            CloudEventAttributes expected = CloudEventAttributes.of(event, Stage.GATEWAY);
            assertThat(received.topic()).isEqualTo(event.eventType().topic());
            assertThat(received.key()).isEqualTo(event.run().app());
            assertThat(received.cloudEvent()).as("CloudEvents metadata of %s", event.eventType()).isNotNull();
            assertThat(received.cloudEvent().getId()).isEqualTo(expected.id());
            assertThat(received.cloudEvent().getType()).isEqualTo(expected.type());
            assertThat(received.cloudEvent().getSource().toString()).isEqualTo("/conveyor/gateway");
            assertThat(received.cloudEvent().getSubject()).contains(event.run().runId());
            assertThat(received.cloudEvent().getSpecVersion()).isEqualTo("1.0");
            assertThat(received.cloudEvent().getTimeStamp()).get()
                    .satisfies(t -> assertThat(t.toInstant()).isEqualTo(event.occurredAt()));
        }

        // Binary mode: the attributes are headers and the value is the bare event JSON, not a structured envelope.
        ConsumerTask<String, byte[]> raw = companion.consume(String.class, byte[].class)
                .fromTopics(Topics.IMAGE_PUSHED, 1).awaitCompletion(Duration.ofSeconds(30));
        ConsumerRecord<String, byte[]> record = raw.getFirstRecord();
        assertThat(new String(record.headers().lastHeader("ce_type").value(), StandardCharsets.UTF_8))
                .isEqualTo("dev.conveyor.image.pushed.v1");
        assertThat(new String(record.value(), StandardCharsets.UTF_8)).startsWith("{\"run\":");
    }

    @Test
    void aPoisonRecordIsDeadLetteredWithItsReasonAndTheConsumerKeepsGoing() throws Exception {
        companion.produce(String.class, byte[].class)
                .fromRecords(new ProducerRecord<>(Topics.IMAGE_PUSHED, "shop-api",
                        POISON.getBytes(StandardCharsets.UTF_8)))
                .awaitCompletion(Duration.ofSeconds(30));

        ConsumerTask<String, byte[]> dead = companion.consume(String.class, byte[].class)
                .fromTopics(DEAD_LETTER_TOPIC, 1).awaitCompletion(Duration.ofSeconds(60));
        ConsumerRecord<String, byte[]> poison = dead.getFirstRecord();
        String reason = new String(poison.headers().lastHeader("dead-letter-reason").value(), StandardCharsets.UTF_8);
        assertThat(reason).contains("ImagePushed: missing required fields").contains("run.attempt").contains("digest");
        assertThat(poison.key()).isEqualTo("shop-api");
        // Nothing is lost: the dead-letter record keeps the original bytes, so it can be repaired and replayed.
        assertThat(new String(poison.value(), StandardCharsets.UTF_8)).isEqualTo(POISON);

        // The next good record on the same topic is still consumed, and the channel reports itself healthy.
        ImagePushed next = (ImagePushed) SampleEvents.all().get(3);
        ImagePushed afterPoison = new ImagePushed(next.run().nextAttempt(), next.occurredAt(), next.causationId(),
                next.version(), next.repository(), next.tags(), next.digest(), next.sizeBytes());
        publisher.publish(afterPoison, Stage.IMAGE_BUILDER).toCompletableFuture().get(30, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(
                () -> assertThat(consumer.received()).extracting(ProofConsumer.Received::event).contains(afterPoison));
        assertThat(health.getLiveness().isOk()).isTrue();
        assertThat(health.getReadiness().isOk()).isTrue();
    }
}
