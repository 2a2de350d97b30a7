package dev.conveyor.imagebuilder.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

import dev.conveyor.events.kafka.ConveyorEventDeserializer;
import dev.conveyor.events.kafka.ConveyorEventSerializer;
import dev.conveyor.events.v1.Artifact;
import dev.conveyor.events.v1.BumpReason;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.EventType;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.stage.messaging.StageEdge;
import dev.conveyor.testkit.kafka.InjectKafkaBroker;
import dev.conveyor.testkit.kafka.KafkaBroker;
import dev.conveyor.testkit.kafka.KafkaBrokerResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * A stage's own overhead, consume to emit, on the real broker (the testkit's Kafka): {@link NoOpStage} runs the image
 * builder's stage machinery around a handler that only makes its output event. One input at a time, the time from
 * sending a {@code VersionResolved} to receiving its {@code ImagePushed}; in the same run, alternating in blocks, the
 * bare broker round trip (the same producer sends the same event to a plain topic, the same kind of consumer reads it).
 * The stage path crosses the broker twice (in, out), the bare path once. Not a test (the name matches neither
 * {@code *Test} nor {@code *IT}); run it on purpose:
 *
 * <pre>
 * ./mvnw -B -ntp -o test -pl image-builder -am -Dtest=StageOverheadBench -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 *
 * Prints the figures and writes them to {@code image-builder/target/stage-overhead-bench.txt}.
 */
@QuarkusTest
@TestProfile(StageOverheadBench.Profile.class)
@QuarkusTestResource(KafkaBrokerResource.class)
class StageOverheadBench {

    static final String BARE_TOPIC = "bench.bare";
    static final int WARM_UP = 100;
    static final int BLOCKS = 6;
    static final int PER_BLOCK = 100;

    /** Turns {@link NoOpStage} on and gives it a channel configured as the service's own input channel is. */
    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> config = new HashMap<>();
            config.put("conveyor.bench.stage-overhead", "true");
            String in = "mp.messaging.incoming.\"" + NoOpStage.CHANNEL + "\".";
            config.put(in + "connector", "smallrye-kafka");
            config.put(in + "topic", NoOpStage.CHANNEL);
            config.put(in + "group.id", "conveyor-bench");
            config.put(in + "auto.offset.reset", "earliest");
            config.put(in + "key.deserializer", StringDeserializer.class.getName());
            config.put(in + "value.deserializer", ConveyorEventDeserializer.class.getName());
            config.put(in + "fail-on-deserialization-failure", "false");
            config.put(in + "enable.auto.commit", "false");
            config.put(in + "failure-strategy", "dead-letter-queue");
            config.put(in + "dead-letter-queue.topic", NoOpStage.CHANNEL + ".dlq");
            config.put(in + "dead-letter-queue.key.serializer", StringSerializer.class.getName());
            config.put(in + "dead-letter-queue.value.serializer",
                    "org.apache.kafka.common.serialization.ByteArraySerializer");
            // -Dbench.linger-ms=5 measures the outgoing channel with Kafka 4's default linger instead of the service's.
            String linger = System.getProperty("bench.linger-ms");
            if (linger != null) {
                config.put("mp.messaging.outgoing." + StageEdge.CHANNEL + ".linger.ms", linger);
            }
            // No registry is needed: the image builder's own consumer gets no input here.
            for (String prefix : List.of("", "%test.")) {
                config.put(prefix + "conveyor.image-builder.registry", "localhost:5000");
                config.put(prefix + "conveyor.image-builder.insecure-registries", "localhost:5000");
                config.put(prefix + "conveyor.image-builder.jar-base-image", "localhost:5000/base:1");
                config.put(prefix + "conveyor.image-builder.directory-base-image", "localhost:5000/base:1");
            }
            return config;
        }
    }

    @InjectKafkaBroker
    KafkaBroker broker;

    @Test
    void consumeToEmitAgainstTheBareBrokerRoundTrip() throws Exception {
        String load = loadAverage();
        try (KafkaProducer<String, ConveyorEvent> producer = producer();
                KafkaConsumer<String, ConveyorEvent> outputs = consumer(Topics.IMAGE_PUSHED);
                KafkaConsumer<String, ConveyorEvent> bare = consumer(BARE_TOPIC)) {
            List<Long> stage = new ArrayList<>();
            List<Long> handlerIn = new ArrayList<>();
            List<Long> direct = new ArrayList<>();
            int sequence = 0;
            for (int i = 0; i < WARM_UP; i++) {
                roundTrip(producer, outputs, NoOpStage.CHANNEL, sequence++, null, null);
                roundTrip(producer, bare, BARE_TOPIC, sequence++, null, null);
            }
            for (int block = 0; block < BLOCKS; block++) {
                for (int i = 0; i < PER_BLOCK; i++) {
                    roundTrip(producer, outputs, NoOpStage.CHANNEL, sequence++, stage, handlerIn);
                }
                for (int i = 0; i < PER_BLOCK; i++) {
                    roundTrip(producer, bare, BARE_TOPIC, sequence++, direct, null);
                }
            }
            String report = String.format("""
                    stage overhead, consume -> emit, %d inputs one at a time (after %d warm-up), alternating in blocks \
                    of %d with the bare round trip
                    stage path (send VersionResolved -> receive its ImagePushed): p50 %.2f ms, p99 %.2f ms, max %.2f ms
                      of which send -> handler runs: p50 %.2f ms, p99 %.2f ms
                    bare broker round trip (send -> receive, one topic): p50 %.2f ms, p99 %.2f ms, max %.2f ms
                    stage path minus two bare round trips: p50 %.2f ms, p99 %.2f ms
                    outgoing linger.ms: %s; load average: start %s, end %s
                    """, stage.size(), WARM_UP, PER_BLOCK, ms(percentile(stage, 50)), ms(percentile(stage, 99)),
                    ms(percentile(stage, 100)), ms(percentile(handlerIn, 50)), ms(percentile(handlerIn, 99)),
                    ms(percentile(direct, 50)), ms(percentile(direct, 99)), ms(percentile(direct, 100)),
                    ms(percentile(stage, 50) - 2 * percentile(direct, 50)),
                    ms(percentile(stage, 99) - 2 * percentile(direct, 99)), ConfigProvider.getConfig().getOptionalValue(
                            "mp.messaging.outgoing." + StageEdge.CHANNEL + ".linger.ms", String.class).orElse(
                                    "client default (5)"),
                    load, loadAverage());
            System.out.print(report);
            Files.writeString(Path.of("target/stage-overhead-bench.txt"), report);
            assertThat(stage).hasSize(BLOCKS * PER_BLOCK);
            assertThat(direct).hasSize(BLOCKS * PER_BLOCK);
        }
    }

    /** Sends one event and waits for the record it leads to on {@code from}; adds the nanoseconds to {@code times}. */
    private static void roundTrip(KafkaProducer<String, ConveyorEvent> producer,
            KafkaConsumer<String, ConveyorEvent> from, String topic, int sequence, List<Long> times,
            List<Long> handlerTimes) throws Exception {
        VersionResolved event = event(sequence);
        String runId = event.run().runId();
        long start = System.nanoTime();
        // Binary CloudEvents headers, as an upstream stage's outgoing channel writes them.
        RecordHeaders headers = new RecordHeaders();
        headers.add("ce_specversion", bytes("1.0"));
        headers.add("ce_id", bytes(java.util.UUID.randomUUID().toString()));
        headers.add("ce_source", bytes("/conveyor/versioner"));
        headers.add("ce_type", bytes(EventType.VERSION_RESOLVED.type()));
        headers.add("content-type", bytes("application/json"));
        producer.send(new ProducerRecord<>(topic, null, event.run().app(), event, headers));
        producer.flush();
        long deadline = start + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<String, ConveyorEvent> record : from.poll(Duration.ofMillis(50))) {
                if (record.value() != null && record.value().run().runId().equals(runId)) {
                    long end = System.nanoTime();
                    if (topic.equals(NoOpStage.CHANNEL)) {
                        assertThat(record.value()).isInstanceOf(ImagePushed.class);
                    }
                    if (times != null) {
                        times.add(end - start);
                    }
                    if (handlerTimes != null) {
                        handlerTimes.add(NoOpStage.HANDLED.get(runId) - start);
                    }
                    return;
                }
            }
        }
        throw new AssertionError("no answer to " + runId + " on " + topic + " within 30 s");
    }

    private static byte[] bytes(String text) {
        return text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static VersionResolved event(int sequence) {
        String app = "bench-" + sequence;
        return new VersionResolved(PipelineRun.start(app, "https://git.example/" + app + ".git", "ab".repeat(20),
                "main", null, Flow.CD), Instant.now(), null, "1.0." + sequence, "v1.0." + sequence, true, null,
                BumpReason.PATCH, List.of(), new Artifact("https://artifacts.example/" + app + ".jar", "cd"
                        .repeat(32), null, "jar"));
    }

    private KafkaProducer<String, ConveyorEvent> producer() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        return new KafkaProducer<>(props, new StringSerializer(), new ConveyorEventSerializer());
    }

    /** A consumer of every partition of {@code topic} from its current end. */
    private KafkaConsumer<String, ConveyorEvent> consumer(String topic) {
        try {
            broker.createTopics(1, topic);
        } catch (IllegalStateException e) {
            // already there (made by a client's metadata request)
        }
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        KafkaConsumer<String, ConveyorEvent> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ConveyorEventDeserializer());
        List<TopicPartition> partitions = consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p
                .partition())).toList();
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position);
        return consumer;
    }

    private static long percentile(List<Long> values, int percentile) {
        List<Long> sorted = values.stream().sorted().toList();
        return sorted.get((int) Math.ceil(percentile / 100.0 * sorted.size()) - 1);
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    private static String loadAverage() throws IOException {
        String[] fields = Files.readString(Path.of("/proc/loadavg")).split(" ");
        return fields[0] + " " + fields[1] + " " + fields[2];
    }
}
