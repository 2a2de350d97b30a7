package dev.conveyor.events.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;

import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.EventFormatException;
import dev.conveyor.events.v1.SampleEvents;
import dev.conveyor.events.v1.Topics;

class ConveyorEventDeserializerTest {

    private final ConveyorEventSerializer serializer = new ConveyorEventSerializer();
    private final ConveyorEventDeserializer deserializer = new ConveyorEventDeserializer();

    @Test
    void theCloudEventsTypeHeaderChoosesTheRecord() {
        ConveyorEvent pushed = SampleEvents.all().get(3);
        RecordHeaders headers = new RecordHeaders();
        headers.add("ce_type", "dev.conveyor.image.pushed.v1".getBytes(StandardCharsets.UTF_8));
        // The topic says otherwise on purpose: the header wins, so replay tools may republish anywhere.
        assertThat(deserializer.deserialize("some.other.topic", headers, serializer.serialize("t", pushed)))
                .isEqualTo(pushed);
    }

    @Test
    void withoutTheHeaderTheTopicChoosesTheRecord() {
        ConveyorEvent built = SampleEvents.all().get(0);
        assertThat(deserializer.deserialize(Topics.BUILD_SUCCEEDED, serializer.serialize("t", built)))
                .isEqualTo(built);
    }

    @Test
    void foreignTypesAndTopicsAreRejectedByName() {
        RecordHeaders headers = new RecordHeaders();
        headers.add("ce_type", "com.example.other.v1".getBytes(StandardCharsets.UTF_8));
        byte[] data = serializer.serialize("t", SampleEvents.all().get(0));
        assertThatThrownBy(() -> deserializer.deserialize(Topics.BUILD_SUCCEEDED, headers, data))
                .isInstanceOf(EventFormatException.class)
                .hasMessageContaining("unknown CloudEvents type 'com.example.other.v1'");
        assertThatThrownBy(() -> deserializer.deserialize("orders", data))
                .hasMessageContaining("'orders' is not a Conveyor topic");
    }

    @Test
    void tombstonesStayNull() {
        assertThat(deserializer.deserialize(Topics.BUILD_SUCCEEDED, null)).isNull();
        assertThat(serializer.serialize(Topics.BUILD_SUCCEEDED, null)).isNull();
    }
}
