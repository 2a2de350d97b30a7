package dev.conveyor.gateway.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.conveyor.events.kafka.ConveyorEventDeserializer;
import dev.conveyor.events.v1.BuildFailed;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.CloudEventAttributes;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.gateway.domain.JenkinsHooks;
import dev.conveyor.gateway.fuzz.HookFuzz.Outcome;
import dev.conveyor.gateway.support.Topic;
import dev.conveyor.testkit.kafka.KafkaBrokerResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Generated hooks against the running gateway and the real broker, with a valid token: no answer is a 5xx, no answer
 * echoes its input, every 202 is a well-formed build report that put exactly one well-formed event in the log, and
 * nothing else did. {@code -Dconveyor.fuzz.count} and {@code -Dconveyor.fuzz.seed} change the run (defaults 2,000
 * and 16); {@code bench/hook-fuzz} runs 10,000.
 */
@QuarkusTest
@QuarkusTestResource(KafkaBrokerResource.class)
class HookFuzzIT {

    static final int COUNT = Integer.getInteger("conveyor.fuzz.count", 2_000);
    static final long SEED = Long.getLong("conveyor.fuzz.seed", 16L);
    static final Pattern RUN_ID = Pattern.compile("r-[0-9a-f]{24}");
    static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/")
    URI base;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Test
    void fuzzedHooksNeverFailTheServerAndEveryAcceptedOneIsOneWellFormedEvent() throws Exception {
        Instant start = Instant.now();
        long began = System.nanoTime();
        List<Outcome> outcomes = HookFuzz.run(base, "test-hook-token", SEED, COUNT, "fz");
        Instant end = Instant.now();
        System.out.println("hook fuzz, seed " + SEED + ":\n"
                + HookFuzz.summary(outcomes, Duration.ofNanos(System.nanoTime() - began)));

        assertThat(outcomes).hasSize(COUNT);
        assertThat(outcomes).as("answers with a 5xx").filteredOn(o -> o.status() >= 500).isEmpty();
        assertThat(outcomes).as("answers that echo their input (longer than 4 KiB)")
                .filteredOn(o -> o.length() > 4096).isEmpty();
        List<Outcome> accepted = outcomes.stream().filter(o -> o.status() == 202).toList();
        assertThat(accepted).as("some generated hooks are valid and must be accepted").hasSizeGreaterThan(COUNT / 20);
        Map<String, Outcome> byRun = new HashMap<>();
        for (Outcome o : accepted) {
            JsonNode answer = JSON.readTree(o.body());
            String key = answer.path("runId").asText() + "#" + answer.path("attempt").asInt();
            assertThat(answer.path("runId").asText()).matches(RUN_ID);
            assertThat(answer.path("event").asText()).isIn("BuildSucceeded", "BuildFailed");
            assertThat(answer.path("duplicate").asBoolean()).isFalse();
            assertThat(o.location()).isEqualTo("/runs/" + answer.path("runId").asText());
            assertWellFormedHook(o);
            assertThat(byRun.put(key, o)).as("two 202s for %s", key).isNull();
        }

        // Every 202 waited for the broker's ack: the log already holds all there will be.
        List<ConsumerRecord<String, byte[]>> records = buildRecords();
        ConveyorEventDeserializer events = new ConveyorEventDeserializer();
        Map<String, List<ConveyorEvent>> logged = new HashMap<>();
        for (ConsumerRecord<String, byte[]> record : records) {
            ConveyorEvent event = events.deserialize(record.topic(), record.headers(), record.value());
            if (event.occurredAt().isBefore(start) || event.occurredAt().isAfter(end)) {
                continue; // another test's hook
            }
            assertThat(Topic.header(record, "ce_id")).isEqualTo(CloudEventAttributes.idOf(event));
            assertThat(Topic.header(record, "ce_source")).isEqualTo(Stage.GATEWAY.source());
            assertThat(record.key()).isEqualTo(event.run().app());
            logged.computeIfAbsent(event.run().runId() + "#" + event.run().attempt(), k -> new ArrayList<>())
                    .add(event);
        }
        assertThat(logged.keySet()).as("events in the log during the fuzz = the 202s").isEqualTo(byRun.keySet());
        logged.forEach((key, list) -> {
            assertThat(list).as("events of %s", key).hasSize(1);
            assertMatchesHook(list.get(0), byRun.get(key));
        });
    }

    /**
     * The URL policy's part of the fuzz: no hostile URL of the issue is accepted (the gateway's outbound URL check,
     * {@code HookUrls}).
     */
    @Test
    void hostileUrlsAreNeverAccepted() {
        List<Outcome> outcomes = HookFuzz.run(base, "test-hook-token", SEED, COUNT, "fzh");
        List<Outcome> hostile = outcomes.stream().filter(o -> o.request().hostileUrl()).toList();
        assertThat(hostile).isNotEmpty();
        assertThat(hostile).as("hostile URLs accepted").filteredOn(o -> o.status() == 202)
                .extracting(o -> new String(o.request().body(), StandardCharsets.UTF_8)).isEmpty();
    }

    /** Independently of the answer: the request was application/json, UTF-8, a JSON object the rules accept. */
    static void assertWellFormedHook(Outcome o) throws Exception {
        assertThat(o.request().contentType()).startsWith("application/json").doesNotContain("16");
        String text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(o.request().body()))
                .toString();
        JsonNode hook = JSON.readTree(text);
        assertThat(hook.isObject()).isTrue();
        assertThat(hook.path("result").asText()).isIn("SUCCESS", "FAILURE");
        Set<String> allowed = hook.path("result").asText().equals("SUCCESS")
                ? Set.of("result", "repoUrl", "commit", "branch", "pullRequest", "pullRequestTitle", "app", "buildUrl",
                        "tests", "lint", "artifact")
                : Set.of("result", "repoUrl", "commit", "branch", "pullRequest", "pullRequestTitle", "app", "buildUrl",
                        "tests", "lint", "failedStep", "reason");
        hook.fieldNames().forEachRemaining(name -> assertThat(allowed).contains(name));
        assertThat(hook.path("commit").asText()).matches("[0-9a-fA-F]{40}|[0-9a-fA-F]{64}");
        assertThat(o.request().body().length).isLessThanOrEqualTo(65_536);
        JenkinsHooks.toEvent(hook, Instant.now()); // throws if the rules refuse it
    }

    static void assertMatchesHook(ConveyorEvent event, Outcome o) {
        JsonNode hook;
        try {
            hook = JSON.readTree(o.request().body());
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        assertThat(event.run().repoUrl()).isEqualTo(hook.path("repoUrl").asText().trim());
        assertThat(event.run().commit()).isEqualTo(hook.path("commit").asText().trim().toLowerCase());
        assertThat(event.run().branch()).isEqualTo(hook.path("branch").asText().trim());
        if (hook.path("result").asText().equals("SUCCESS")) {
            assertThat(event).isInstanceOf(BuildSucceeded.class);
            assertThat(((BuildSucceeded) event).artifact().sha256()).isEqualTo(hook.path("artifact").path("sha256")
                    .asText());
        } else {
            assertThat(event).isInstanceOf(BuildFailed.class);
            assertThat(((BuildFailed) event).failedStep()).isEqualTo(hook.path("failedStep").asText().trim());
        }
    }

    List<ConsumerRecord<String, byte[]>> buildRecords() {
        Map<String, Object> props = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : List.of(Topics.BUILD_SUCCEEDED, Topics.BUILD_FAILED)) {
                var infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
                (infos == null ? List.<org.apache.kafka.common.PartitionInfo>of() : infos)
                        .forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                assertThat(System.nanoTime()).as("reading the build topics").isLessThan(deadline);
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            return records;
        }
    }
}
