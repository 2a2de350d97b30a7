package dev.conveyor.events.kafka;

import org.apache.kafka.common.serialization.Serializer;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.EventJson;

/**
 * Kafka value serializer for every Conveyor event: the event's JSON, which is the CloudEvent's {@code data} in binary
 * mode. Configure it as {@code value.serializer} on outgoing channels.
 */
public class ConveyorEventSerializer implements Serializer<ConveyorEvent> {

    @Override
    public byte[] serialize(String topic, ConveyorEvent event) {
        return event == null ? null : EventJson.write(event);
    }
}
