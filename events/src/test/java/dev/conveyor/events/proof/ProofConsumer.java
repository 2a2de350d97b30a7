package dev.conveyor.events.proof;

import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

import dev.conveyor.events.v1.ConveyorEvent;
import io.smallrye.reactive.messaging.kafka.IncomingKafkaCloudEventMetadata;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;

/**
 * The proof app's consumer of every Conveyor topic. A record it cannot read arrives with a null payload (the channel
 * does not fail on deserialization errors); it is nacked with the reason, which sends it to the dead-letter topic.
 */
@ApplicationScoped
public class ProofConsumer {

    /** What arrived: the event with the CloudEvents attributes and the record key it came with. */
    public record Received(ConveyorEvent event, IncomingKafkaCloudEventMetadata<?, ?> cloudEvent, Object key,
            String topic) {
    }

    private final List<Received> received = new CopyOnWriteArrayList<>();

    @Incoming("proof-in")
    public CompletionStage<Void> consume(Message<ConveyorEvent> message) {
        ConveyorEvent event = message.getPayload();
        IncomingKafkaRecordMetadata<?, ?> kafka = message.getMetadata(IncomingKafkaRecordMetadata.class).orElseThrow();
        if (event == null) {
            String reason = header(kafka, "deserialization-failure-reason");
            return message.nack(new IllegalArgumentException(reason == null ? "unreadable record" : reason));
        }
        IncomingKafkaCloudEventMetadata<?, ?> ce = message.getMetadata(IncomingKafkaCloudEventMetadata.class)
                .orElse(null);
        received.add(new Received(event, ce, kafka.getKey(), kafka.getTopic()));
        return message.ack();
    }

    public List<Received> received() {
        return received;
    }

    private static String header(IncomingKafkaRecordMetadata<?, ?> kafka, String name) {
        var header = kafka.getHeaders().lastHeader(name);
        return header == null ? null : new String(header.value(), java.nio.charset.StandardCharsets.UTF_8);
    }
}
