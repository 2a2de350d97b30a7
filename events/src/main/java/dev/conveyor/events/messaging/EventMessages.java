package dev.conveyor.events.messaging;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.Metadata;

import dev.conveyor.events.v1.CloudEventAttributes;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Stage;
import io.smallrye.reactive.messaging.ce.IncomingCloudEventMetadata;
import io.smallrye.reactive.messaging.ce.OutgoingCloudEventMetadata;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;

/**
 * Builds and reads SmallRye messages that carry Conveyor events as CloudEvents in Kafka binary mode.
 *
 * <p>
 * Outgoing messages get the deterministic CloudEvents attributes of {@link CloudEventAttributes}, the app id as record
 * key (so one app's events stay ordered in one partition) and the event's topic, so a single emitter can publish every
 * event type.
 */
public final class EventMessages {

    private EventMessages() {
    }

    /** A message for {@code event}, emitted by {@code source}. */
    public static <E extends ConveyorEvent> Message<E> of(E event, Stage source) {
        CloudEventAttributes ce = CloudEventAttributes.of(event, source);
        OutgoingCloudEventMetadata<Object> cloudEvent = OutgoingCloudEventMetadata.builder()
                .withId(ce.id())
                .withType(ce.type())
                .withSource(URI.create(ce.source()))
                .withSubject(ce.subject())
                .withTimestamp(ce.time().atZone(ZoneOffset.UTC))
                .withDataContentType(CloudEventAttributes.DATA_CONTENT_TYPE)
                .build();
        OutgoingKafkaRecordMetadata<String> kafka = OutgoingKafkaRecordMetadata.<String>builder()
                .withKey(event.run().app())
                .withTopic(event.eventType().topic())
                .build();
        return Message.of(event, Metadata.of(cloudEvent, kafka));
    }

    /**
     * Like {@link #of(ConveyorEvent, Stage)}, completing {@code acked} when the broker acknowledges the record (or
     * exceptionally when it is nacked), so a consumer can acknowledge its input only after its outputs are safe.
     */
    public static <E extends ConveyorEvent> Message<E> of(E event, Stage source, CompletableFuture<Void> acked) {
        return of(event, source).withAck(() -> {
            acked.complete(null);
            return CompletableFuture.completedFuture(null);
        }).withNack(failure -> {
            acked.completeExceptionally(failure);
            return CompletableFuture.completedFuture(null);
        });
    }

    /**
     * Acknowledges {@code input} once every output is acknowledged by the broker, and nacks it (dead letter or
     * redelivery, by the channel's failure strategy) when one is not: an input is never lost between a crash and its
     * outputs.
     */
    public static CompletionStage<Void> ackWhenSent(Message<?> input, List<CompletableFuture<Void>> outputs) {
        return CompletableFuture.allOf(outputs.toArray(CompletableFuture[]::new))
                .thenCompose(v -> input.ack())
                .exceptionallyCompose(input::nack);
    }

    /**
     * Why an incoming record could not be deserialized (the header SmallRye sets when the channel does not fail on
     * deserialization errors), for the dead-letter reason.
     */
    public static String deserializationFailure(Message<?> message) {
        return message.getMetadata(IncomingKafkaRecordMetadata.class)
                .map(m -> m.getHeaders().lastHeader("deserialization-failure-reason"))
                .map(h -> new String(h.value(), StandardCharsets.UTF_8))
                .orElse("unreadable record");
    }

    /** The CloudEvents id of an incoming message: what the events it causes carry as {@code causationId}. */
    public static Optional<String> cloudEventId(Message<?> message) {
        return message.getMetadata(IncomingCloudEventMetadata.class).map(IncomingCloudEventMetadata::getId);
    }
}
