package dev.conveyor.events.kafka;

import java.nio.charset.StandardCharsets;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.EventFormatException;
import dev.conveyor.events.v1.EventJson;
import dev.conveyor.events.v1.EventType;

/**
 * Kafka value deserializer for every Conveyor event. The record class comes from the CloudEvents {@code ce_type}
 * header, or from the topic when the header is absent; a type or topic that is not Conveyor's, or a document that
 * breaks the contract, is an {@link EventFormatException} naming the field, which the channel's failure handling turns
 * into a dead-letter record.
 */
public class ConveyorEventDeserializer implements Deserializer<ConveyorEvent> {

    /** Kafka header carrying the CloudEvents type in binary mode. */
    public static final String CE_TYPE_HEADER = "ce_type";

    @Override
    public ConveyorEvent deserialize(String topic, byte[] data) {
        return deserialize(topic, null, data);
    }

    @Override
    public ConveyorEvent deserialize(String topic, Headers headers, byte[] data) {
        if (data == null) {
            return null;
        }
        String ceType = headerValue(headers, CE_TYPE_HEADER);
        EventType type = ceType != null
                ? EventType.fromCloudEventType(ceType).orElseThrow(
                        () -> new EventFormatException(CE_TYPE_HEADER,
                                "unknown CloudEvents type '" + ceType + "' on " + topic))
                : EventType.fromTopic(topic).orElseThrow(
                        () -> new EventFormatException(CE_TYPE_HEADER,
                                "no ce_type header and '" + topic + "' is not a Conveyor topic"));
        return EventJson.read(data, type);
    }

    private static String headerValue(Headers headers, String key) {
        if (headers == null) {
            return null;
        }
        Header header = headers.lastHeader(key);
        return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}
