package dev.conveyor.stage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.conveyor.testkit.kafka.KafkaBroker;

/**
 * Runtime rule 3, "takeover is fast", with the Kafka client defaults every service gets from stage-support: a consumer
 * in another JVM holds every partition and is killed (SIGKILL: no leave-group, no last commit); its replacement, with
 * the same settings in the same group, gets the partitions once the dead member's session expires. Timing is printed,
 * not asserted, beyond a generous bound the 45 s default session timeout could not meet.
 */
class KafkaTakeoverIT {

    static final String TOPIC = "conveyor.takeover.test";
    static final String GROUP = "conveyor-takeover-test";
    static final int PARTITIONS = 3;
    static final String CONNECTOR_PREFIX = "mp.messaging.connector.smallrye-kafka.";

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
    void aKilledConsumersPartitionsGoToItsReplacementWithinTheSessionTimeout() throws Exception {
        Map<String, Object> shared = sharedConsumerDefaults();
        System.out.println("shared consumer defaults: " + shared);
        assertThat(shared).containsEntry(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");

        Process holder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), Holder.class.getName(), broker.bootstrapServers())
                .redirectErrorStream(true).start();
        try {
            String assigned = awaitLine(holder.getInputStream(), "ASSIGNED " + PARTITIONS, Duration.ofSeconds(60));
            assertThat(assigned).as("the holder got every partition").isNotNull();

            holder.destroyForcibly();
            assertThat(holder.waitFor(10, TimeUnit.SECONDS)).isTrue();

            long started = System.nanoTime();
            try (KafkaConsumer<String, String> replacement = new KafkaConsumer<>(config(broker.bootstrapServers()))) {
                replacement.subscribe(List.of(TOPIC));
                // Poll until it owns everything, within a bound the 45 s default session timeout could not meet.
                Set<TopicPartition> owned = pollUntilOwned(replacement, started, Duration.ofSeconds(30));
                Duration takeover = Duration.ofNanos(System.nanoTime() - started);
                System.out.printf("takeover: the replacement owned %d of %d partitions %d ms after it started%n",
                        owned.size(), PARTITIONS, takeover.toMillis());
                assertThat(owned).hasSize(PARTITIONS);
            }
        } finally {
            holder.destroyForcibly();
        }
    }

    /** The consumer-side defaults of stage-support's microprofile-config.properties, as the connector applies them. */
    static Map<String, Object> sharedConsumerDefaults() {
        Properties file = new Properties();
        try (InputStream in = KafkaTakeoverIT.class.getClassLoader().getResourceAsStream(
                "META-INF/microprofile-config.properties")) {
            file.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Set<String> consumerKeys = ConsumerConfig.configNames();
        Map<String, Object> shared = new HashMap<>();
        file.stringPropertyNames().stream().filter(k -> k.startsWith(CONNECTOR_PREFIX))
                .map(k -> k.substring(CONNECTOR_PREFIX.length())).filter(consumerKeys::contains)
                .forEach(k -> shared.put(k, file.getProperty(CONNECTOR_PREFIX + k)));
        return shared;
    }

    static Map<String, Object> config(String bootstrap) {
        Map<String, Object> config = new HashMap<>(sharedConsumerDefaults());
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        return config;
    }

    /** Reads the child's output until a line starts with {@code prefix}; null when it does not come in time. */
    static String awaitLine(InputStream out, String prefix, Duration timeout) throws Exception {
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(out, StandardCharsets.UTF_8))) {
                for (String l = reader.readLine(); l != null; l = reader.readLine()) {
                    System.out.println("[holder] " + l);
                    if (l.startsWith(prefix)) {
                        return l;
                    }
                }
                return null;
            } catch (IOException e) {
                return null;
            }
        });
        try {
            return line.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            return null;
        }
    }

    /** Polls {@code consumer} until it owns all {@link #PARTITIONS} or {@code bound} has passed since {@code started}. */
    static Set<TopicPartition> pollUntilOwned(KafkaConsumer<String, String> consumer, long started, Duration bound) {
        Set<TopicPartition> owned = Set.of();
        while (owned.size() < PARTITIONS && System.nanoTime() - started < bound.toNanos()) {
            consumer.poll(Duration.ofMillis(200));
            owned = consumer.assignment();
        }
        return owned;
    }

    /** In the dying process: joins with {@code config}, says when it holds every partition, and polls until killed. */
    static void hold(Map<String, Object> config, String topic) {
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
            consumer.subscribe(List.of(topic));
            boolean told = false;
            while (true) {
                consumer.poll(Duration.ofMillis(200));
                if (!told && consumer.assignment().size() == PARTITIONS) {
                    System.out.println("ASSIGNED " + PARTITIONS);
                    System.out.flush();
                    told = true;
                }
            }
        }
    }

    /** The consumer that dies. */
    public static final class Holder {
        public static void main(String[] args) {
            hold(config(args[0]), TOPIC);
        }
    }
}
