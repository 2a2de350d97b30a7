package dev.conveyor.testkit.kafka;

import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

import io.smallrye.reactive.messaging.kafka.companion.KafkaCompanion;

/**
 * A real Kafka broker in KRaft mode (one combined broker and controller) running inside the test JVM.
 *
 * <p>
 * It is Kafka's own {@link KafkaClusterTestKit}: the same broker code as production, listening on a free loopback port
 * with its data in a temporary directory that is deleted on {@link #close()}. Several test JVMs can each run their own.
 * Start-up takes about three seconds.
 */
public final class KafkaBroker implements AutoCloseable {

    /** Broker settings that make a single-node cluster behave and start quickly. */
    static final Map<String, String> SINGLE_NODE_SETTINGS = Map.of(
            "offsets.topic.replication.factor", "1",
            "offsets.topic.num.partitions", "3",
            "transaction.state.log.replication.factor", "1",
            "transaction.state.log.min.isr", "1",
            "share.coordinator.state.topic.replication.factor", "1",
            "share.coordinator.state.topic.min.isr", "1",
            "group.initial.rebalance.delay.ms", "0",
            "auto.create.topics.enable", "true",
            "num.partitions", "1");

    private final KafkaClusterTestKit cluster;
    private final Duration startup;

    private KafkaBroker(KafkaClusterTestKit cluster, Duration startup) {
        this.cluster = cluster;
        this.startup = startup;
    }

    /** Formats storage, starts the broker and waits until it serves clients. */
    public static KafkaBroker start() {
        long begin = System.nanoTime();
        KafkaClusterTestKit cluster = null;
        try {
            TestKitNodes nodes = new TestKitNodes.Builder()
                    .setCombined(true)
                    .setNumBrokerNodes(1)
                    .setNumControllerNodes(1)
                    .build();
            KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(nodes);
            SINGLE_NODE_SETTINGS.forEach(builder::setConfigProp);
            cluster = builder.build();
            cluster.format();
            cluster.startup();
            cluster.waitForReadyBrokers();
            KafkaBroker broker = new KafkaBroker(cluster, Duration.ofNanos(System.nanoTime() - begin));
            broker.awaitClientsServed();
            return broker;
        } catch (Exception e) {
            closeQuietly(cluster);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("the in-process Kafka broker did not start: " + e.getMessage(), e);
        }
    }

    /** {@code host:port} of the broker's client listener. */
    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    /** How long {@link #start()} took, for the figures the testkit reports. */
    public Duration startupTime() {
        return startup;
    }

    /** A new companion bound to this broker; the caller closes it. */
    public KafkaCompanion companion() {
        return new KafkaCompanion(bootstrapServers());
    }

    /** A new admin client bound to this broker; the caller closes it. */
    public Admin admin() {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return Admin.create(props);
    }

    /** Creates topics with the given partition count, replication factor one; existing topics are an error. */
    public void createTopics(int partitions, String... topics) {
        try (Admin admin = admin()) {
            admin.createTopics(
                    java.util.Arrays.stream(topics).map(t -> new NewTopic(t, partitions, (short) 1)).toList())
                    .all().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot create topics " + String.join(", ", topics), e);
        }
    }

    @Override
    public void close() {
        closeQuietly(cluster);
    }

    private void awaitClientsServed() throws Exception {
        try (Admin admin = admin()) {
            admin.describeCluster().nodes().get(30, TimeUnit.SECONDS);
        }
    }

    private static void closeQuietly(KafkaClusterTestKit cluster) {
        if (cluster == null) {
            return;
        }
        try {
            cluster.close();
        } catch (Exception e) {
            // Shutdown problems are not test failures; the temporary directory is removed regardless.
        }
    }
}
