package dev.conveyor.stage.messaging;

import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.smallrye.reactive.messaging.ClientCustomizer;

/**
 * Kafka static group membership (KIP-345) for a process that knows a stable name of its own: with
 * {@value #INSTANCE_ID} set, every consumer channel of the process joins its group as {@code <instance-id>_<channel>}
 * (characters Kafka does not allow in the name replaced by {@code _}, at most 249 of them).
 * A process killed and restarted under the same name then takes its partitions back as soon as it rejoins, instead of
 * after the dead member's session timeout ({@code session.timeout.ms}, 10 s by default here), and a zombie of the old
 * process is fenced by the broker.
 *
 * <p>
 * The name must be stable across restarts of the same slot and unique among live processes of the service: the local
 * stack's process name ({@code versioner-2}), or a Kubernetes pod name (kept across container restarts). The cost: a
 * static member does not leave its group when it stops cleanly, so a process stopped for good (scaled down, or a pod
 * replaced under a new name) holds its partitions until its session times out. Unset, nothing changes.
 */
@ApplicationScoped
public class StaticMembership implements ClientCustomizer<Map<String, Object>> {

    /** The configuration key (environment: {@code CONVEYOR_KAFKA_INSTANCE_ID}). */
    public static final String INSTANCE_ID = "conveyor.kafka.instance-id";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,199}");

    /** Kafka's limits for a group instance id (the same as for a topic name). */
    private static final Pattern ILLEGAL = Pattern.compile("[^A-Za-z0-9._-]");
    private static final int MAX_LENGTH = 249;

    private final Optional<String> instanceId;

    @Inject
    public StaticMembership(@ConfigProperty(name = INSTANCE_ID) Optional<String> instanceId) {
        instanceId.ifPresent(id -> {
            if (!NAME.matcher(id).matches()) {
                throw new IllegalArgumentException(INSTANCE_ID + " must be 1-200 letters, digits, '.', '_' or '-',"
                        + " starting with a letter or digit, was '" + id + "'");
            }
        });
        this.instanceId = instanceId;
    }

    @Override
    public Map<String, Object> customize(String channel, Config channelConfig, Map<String, Object> config) {
        boolean consumer = config.containsKey(ConsumerConfig.GROUP_ID_CONFIG) && config.containsKey(
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG)
                && !config.containsKey(
                        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG);
        if (instanceId.isPresent() && consumer
                && !config.containsKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG)) {
            config.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, memberName(instanceId.get(), channel));
        }
        return config;
    }

    /** {@code <instance-id>_<channel>} in the characters and length Kafka accepts for a group instance id. */
    static String memberName(String instanceId, String channel) {
        String name = instanceId + "_" + ILLEGAL.matcher(channel).replaceAll("_");
        return name.length() <= MAX_LENGTH ? name : name.substring(0, MAX_LENGTH);
    }
}
