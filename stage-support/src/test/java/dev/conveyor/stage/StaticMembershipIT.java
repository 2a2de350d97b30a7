package dev.conveyor.stage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.conveyor.stage.messaging.StaticMembership;
import dev.conveyor.testkit.kafka.KafkaBroker;

/**
 * A consumer process killed ({@code SIGKILL}: no leave-group) and restarted under the same
 * {@link StaticMembership#INSTANCE_ID} gets its partitions back when it rejoins, not when the dead member's session
 * expires. The session timeout here is 45 s and the bound 20 s, so a replacement that had to wait for the session
 * (dynamic membership, no instance id) fails.
 */
class StaticMembershipIT {

    static final String TOPIC = "conveyor.static-membership.test";
    static final String GROUP = "conveyor-static-membership-test";
    static final String CHANNEL = "conveyor.static-membership.test";
    static final int PARTITIONS = KafkaTakeoverIT.PARTITIONS;

    static KafkaBroker broker;

    @BeforeAll
    static void start() {
        broker = KafkaBroker.start();
        broker.createTopics(PARTITIONS, TOPIC);
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    @Test
    void aRestartedProcessTakesItsPartitionsBackWithoutWaitingForTheDeadSession() throws Exception {
        Process holder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), Holder.class.getName(), broker.bootstrapServers())
                .redirectErrorStream(true).start();
        try {
            String assigned = KafkaTakeoverIT.awaitLine(holder.getInputStream(), "ASSIGNED " + PARTITIONS, Duration
                    .ofSeconds(60));
            assertThat(assigned).as("the holder got every partition").isNotNull();

            holder.destroyForcibly();
            assertThat(holder.waitFor(10, TimeUnit.SECONDS)).isTrue();

            long started = System.nanoTime();
            try (KafkaConsumer<String, String> restarted = new KafkaConsumer<>(config(broker.bootstrapServers()))) {
                restarted.subscribe(List.of(TOPIC));
                Set<TopicPartition> owned = KafkaTakeoverIT.pollUntilOwned(restarted, started, Duration.ofSeconds(20));
                System.out.printf("static rejoin: the restarted process owned %d of %d partitions %d ms after it"
                        + " started (session timeout 45 s)%n", owned.size(), PARTITIONS,
                        Duration.ofNanos(System
                                .nanoTime() - started).toMillis());
                assertThat(owned).as("partitions owned within 20 s, with the dead session still 45 s long").hasSize(
                        PARTITIONS);
            }
        } finally {
            holder.destroyForcibly();
        }
    }

    /** The consumer config a service process named {@code versioner-2} gets for {@link #CHANNEL}. */
    static Map<String, Object> config(String bootstrap) {
        Map<String, Object> config = KafkaTakeoverIT.config(bootstrap);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
        config.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "45000");
        return new StaticMembership(Optional.of("versioner-2")).customize(CHANNEL, null, config);
    }

    /** The process that dies: joins as a static member and polls until killed. */
    public static final class Holder {
        public static void main(String[] args) {
            KafkaTakeoverIT.hold(config(args[0]), TOPIC);
        }
    }
}
