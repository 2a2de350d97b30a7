package dev.conveyor.stage.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;

class StaticMembershipTest {

    static Map<String, Object> consumer() {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.GROUP_ID_CONFIG, "conveyor-versioner");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                "org.apache.kafka.common.serialization.StringDeserializer");
        return config;
    }

    @Test
    void aConsumerChannelJoinsUnderTheProcessNameAndItsChannel() {
        Map<String, Object> config = new StaticMembership(Optional.of("versioner-2")).customize(
                "conveyor.build.succeeded", null, consumer());

        assertThat(config).containsEntry(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG,
                "versioner-2_conveyor.build.succeeded");
    }

    @Test
    void withoutAnInstanceIdNothingChanges() {
        assertThat(new StaticMembership(Optional.empty()).customize("in", null, consumer())).doesNotContainKey(
                ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
    }

    @Test
    void producersAndAChannelThatSetsItsOwnAreLeftAlone() {
        StaticMembership membership = new StaticMembership(Optional.of("promoter"));
        Map<String, Object> producer = new HashMap<>(Map.of(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, "s",
                ConsumerConfig.GROUP_ID_CONFIG, "leftover"));
        Map<String, Object> own = consumer();
        own.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "mine");

        assertThat(membership.customize("conveyor-events", null, producer)).doesNotContainKey(
                ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        assertThat(membership.customize("in", null, own)).containsEntry(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG,
                "mine");
    }

    @Test
    void channelNamesAreMadeLegalAndTheNameFitsKafkasLimit() {
        StaticMembership membership = new StaticMembership(Optional.of("a".repeat(200)));

        String name = (String) membership.customize("chan nel/\"x\"" + "c".repeat(100), null, consumer()).get(
                ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);

        assertThat(name).hasSize(249).matches("[A-Za-z0-9._-]+").startsWith("a".repeat(200) + "_chan_nel__x_");
    }

    @Test
    void aBadInstanceIdIsRefusedNamingTheKey() {
        assertThatThrownBy(() -> new StaticMembership(Optional.of("pod/1"))).isInstanceOf(
                IllegalArgumentException.class).hasMessageContaining(StaticMembership.INSTANCE_ID).hasMessageContaining(
                        "pod/1");
        assertThatThrownBy(() -> new StaticMembership(Optional.of(""))).hasMessageContaining(
                StaticMembership.INSTANCE_ID);
    }
}
