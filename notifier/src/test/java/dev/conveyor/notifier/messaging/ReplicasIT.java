package dev.conveyor.notifier.messaging;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.patch;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

import dev.conveyor.events.kafka.ConveyorEventSerializer;
import dev.conveyor.events.v1.CloudEventAttributes;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.notifier.config.NotifierBeans;
import dev.conveyor.notifier.domain.AppNotifySettings;
import dev.conveyor.notifier.domain.ProviderKind;
import dev.conveyor.notifier.domain.RunState;
import dev.conveyor.notifier.service.NotifierService;
import dev.conveyor.notifier.testing.Harness;
import dev.conveyor.notifier.testing.ReplicaMain;
import dev.conveyor.notifier.testing.Runs;
import dev.conveyor.testkit.kafka.KafkaBroker;
import dev.conveyor.testkit.stubs.ProviderStubs;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Two notifier replicas share the event topics (three partitions each) through one consumer group: one is a separate
 * process, killed with {@code SIGKILL} while its provider calls are in flight and half of every run is still to come;
 * the other, in this JVM, takes its partitions over, reads their state from the state topic and finishes every run.
 * Each run ends with exactly one Slack message, one PR comment (CI) and one JIRA comment per issue key (CD), showing the
 * whole run; the stubs are the vendors' (slow, so calls are in flight at the kill) and answer lookups from what was
 * posted.
 */
class ReplicasIT {

    static final int PARTITIONS = 3;
    static final int RUNS_PER_PARTITION = 3;
    static final ProviderStubs LOOKUPS = new ProviderStubs();
    static KafkaBroker broker;
    static WireMockServer wiremock;

    @TempDir
    Path dir;
    Process killed;
    EventConsumer survivorConsumer;
    NotifierService survivor;

    @BeforeAll
    static void start() {
        broker = KafkaBroker.start();
        broker.createTopics(PARTITIONS, EventConsumer.TOPICS.toArray(String[]::new));
        wiremock = new WireMockServer(options().dynamicPort().extensions(LOOKUPS).containerThreads(40));
        LOOKUPS.attach(wiremock);
        wiremock.start();
        ProviderStubs.stubLookups(wiremock);
        int delay = 150;
        wiremock.stubFor(post(urlPathMatching("/github/repos/acme/[^/]+/statuses/.*")).willReturn(aResponse()
                .withStatus(201).withHeader("Content-Type", "application/json").withBody("{}").withFixedDelay(delay)));
        AtomicInteger ids = new AtomicInteger(5000);
        wiremock.stubFor(post(urlPathMatching("/github/repos/acme/[^/]+/issues/[0-9]+/comments")).willReturn(
                aResponse().withStatus(201).withHeader("Content-Type", "application/json")
                        .withBody("{\"id\":" + ids.incrementAndGet() + "}").withFixedDelay(delay)));
        wiremock.stubFor(patch(urlPathMatching("/github/repos/acme/[^/]+/issues/comments/[0-9]+"))
                .willReturn(okJson("{}").withFixedDelay(delay)));
        wiremock.stubFor(post(urlEqualTo("/slack/api/chat.postMessage")).willReturn(
                okJson("{\"ok\":true,\"channel\":\"C0DEPLOY\",\"ts\":\"1700000000.000100\"}").withFixedDelay(delay)));
        wiremock.stubFor(post(urlEqualTo("/slack/api/chat.update")).willReturn(
                okJson("{\"ok\":true,\"channel\":\"C0DEPLOY\",\"ts\":\"1700000000.000100\"}").withFixedDelay(delay)));
        wiremock.stubFor(post(urlPathMatching("/jira/rest/api/3/issue/SHOP-[0-9]+/comment")).willReturn(aResponse()
                .withStatus(201).withHeader("Content-Type", "application/json").withBody("{\"id\":\"10042\"}")
                .withFixedDelay(delay)));
    }

    @AfterAll
    static void stop() {
        wiremock.stop();
        broker.close();
    }

    @AfterEach
    void cleanUp() {
        if (killed != null) {
            killed.destroyForcibly();
        }
        if (survivorConsumer != null) {
            survivorConsumer.close();
        }
        Harness.closeQuietly(survivor);
    }

    @Test
    void aReplicaKilledMidStreamLeavesEveryRunToTheOtherWithEachEffectOnce() throws Exception {
        String group = "conveyor-notifier-replicas";
        String stateTopic = "conveyor.notifier.state.replicas";
        survivor = NotifierBeans.service(Harness.config(Harness.settings(wiremock, dir.resolve("b"), Map.of())),
                Harness.engine(), new SimpleMeterRegistry(), Clock.systemUTC(),
                (app, runId, url, commit) -> AppNotifySettings.none());
        survivorConsumer = EventConsumer.start(survivor,
                ReplicaMain.settings(broker.bootstrapServers(), group, stateTopic), Clock.systemUTC());
        await().atMost(Duration.ofSeconds(60)).until(() -> survivorConsumer.partitions().size() == PARTITIONS);
        killed = replica(group, stateTopic);
        // the group rebalances: the other process holds some partitions, this one the rest
        await().atMost(Duration.ofSeconds(60)).until(() -> !survivorConsumer.partitions().isEmpty()
                && survivorConsumer.partitions().size() < PARTITIONS);
        Set<Integer> theirs = new java.util.TreeSet<>(Set.of(0, 1, 2));
        theirs.removeAll(survivorConsumer.partitions());

        // runs spread over every partition, CD and CI alternating; one app per run
        Map<String, List<ConveyorEvent>> runs = new LinkedHashMap<>();
        int[] perPartition = new int[PARTITIONS];
        for (int i = 0; runs.size() < PARTITIONS * RUNS_PER_PARTITION; i++) {
            String app = "app" + i;
            int p = EventConsumer.partitionOf(app, PARTITIONS);
            if (perPartition[p] == RUNS_PER_PARTITION) {
                continue;
            }
            perPartition[p]++;
            String sha = String.format("%040x", 4242 + i);
            runs.put(app, i % 2 == 0
                    ? Runs.delivery(app, "https://github.com/acme/" + app + ".git", sha)
                    : Runs.pullRequest(app, "https://github.com/acme/" + app + ".git", 10 + i, sha));
        }
        List<String> theirApps = runs.keySet().stream()
                .filter(a -> theirs.contains(EventConsumer.partitionOf(a, PARTITIONS))).toList();

        try (KafkaProducer<String, ConveyorEvent> producer = producer()) {
            // the first half of every run, interleaved
            send(producer, runs, 0, 2);
            // killed while its calls are in flight: every run of its partitions made a call, not all are done
            await().atMost(Duration.ofSeconds(60)).until(() -> theirApps.stream()
                    .allMatch(a -> requests().stream().anyMatch(r -> r.getBodyAsString().contains(a))));
            killed.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            long killedAt = System.nanoTime();
            // the rest of every run, while the survivor waits out the dead replica's session
            send(producer, runs, 2, 8);
            await().atMost(Duration.ofSeconds(60)).until(() -> survivorConsumer.partitions().size() == PARTITIONS);
            System.out.printf("takeover of partitions %s: %d ms after the kill%n", theirs,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt));
        }
        // the group has read every record, the survivor's calls are done, and nothing more comes
        AtomicInteger seen = new AtomicInteger(-1);
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1))
                .until(() -> lag(group) == 0 && settled() && seen.getAndSet(requests().size()) == requests().size());

        for (Map.Entry<String, List<ConveyorEvent>> run : runs.entrySet()) {
            String app = run.getKey();
            String runId = run.getValue().get(0).run().runId();
            boolean cd = run.getValue().size() == 8;
            assertThat(posts("/slack/api/chat.postMessage", runId)).as("Slack messages of %s", app).isEqualTo(1);
            String last = lastSlackText(app);
            if (cd) {
                assertThat(posts("/jira/rest/api/3/issue/SHOP-7/comment", runId)).as("SHOP-7 comments of %s", app)
                        .isEqualTo(1);
                assertThat(posts("/jira/rest/api/3/issue/SHOP-8/comment", runId)).as("SHOP-8 comments of %s", app)
                        .isEqualTo(1);
                assertThat(last).as("last Slack text of %s", app).contains("Deployed to *production*", "2.4.0");
            } else {
                int pr = run.getValue().get(0).run().pullRequest();
                assertThat(posts("/github/repos/acme/" + app + "/issues/" + pr + "/comments", "conveyor:run " + runId))
                        .as("PR comments of %s", app).isEqualTo(1);
                assertThat(last).as("last Slack text of %s", app).contains("1.3.0-pr.");
            }
            // the survivor holds the whole run, the events the killed replica handled included
            assertThat(run.getValue()).as("events of %s", app).allMatch(e -> survivor.handled(Runs.id(e)));
            RunState state = survivor.run(runId).orElseThrow();
            assertThat(state.version).as("state of %s", app).isNotNull();
            assertThat(state.imageDigest).as("state of %s", app).isEqualTo(Runs.IMAGE_DIGEST);
        }
    }

    Process replica(String group, String stateTopic) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = List.of(java, "-cp", System.getProperty("java.class.path"),
                ReplicaMain.class.getName(), broker.bootstrapServers(), wiremock.baseUrl(),
                dir.resolve("a").toString(), group, stateTopic);
        File log = dir.resolve("replica-a.log").toFile();
        Process p = new ProcessBuilder(command).redirectError(log).start();
        CompletableFuture<Boolean> ready = CompletableFuture.supplyAsync(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null;) {
                    if (line.contains(ReplicaMain.READY)) {
                        return true;
                    }
                }
                return false;
            } catch (IOException e) {
                return false;
            }
        });
        await().atMost(Duration.ofSeconds(60)).until(() -> ready.isDone() || !p.isAlive());
        assertThat(ready.getNow(false)).as("replica started (log %s)", log).isTrue();
        return p;
    }

    KafkaProducer<String, ConveyorEvent> producer() {
        Map<String, Object> c = new HashMap<>();
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        c.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(c, new StringSerializer(), new ConveyorEventSerializer());
    }

    /** Events {@code from} (inclusive) to {@code to} (exclusive) of every run, round robin, as the stages send them. */
    static void send(KafkaProducer<String, ConveyorEvent> producer, Map<String, List<ConveyorEvent>> runs, int from,
            int to) throws Exception {
        for (int i = from; i < to; i++) {
            for (List<ConveyorEvent> run : runs.values()) {
                if (i < run.size()) {
                    ConveyorEvent e = run.get(i);
                    CloudEventAttributes ce = CloudEventAttributes.of(e, Stage.GATEWAY);
                    RecordHeaders headers = new RecordHeaders();
                    headers.add("ce_specversion", bytes(CloudEventAttributes.SPEC_VERSION));
                    headers.add("ce_id", bytes(ce.id()));
                    headers.add("ce_type", bytes(ce.type()));
                    headers.add("ce_source", bytes(ce.source()));
                    headers.add("content-type", bytes(CloudEventAttributes.DATA_CONTENT_TYPE));
                    producer.send(new ProducerRecord<>(e.eventType().topic(), null, e.run().app(), e, headers))
                            .get(30, TimeUnit.SECONDS);
                }
            }
        }
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Records of the event topics the group has not committed yet. */
    static long lag(String group) throws Exception {
        try (org.apache.kafka.clients.admin.Admin admin = broker.admin()) {
            Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> committed = admin
                    .listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest = new HashMap<>();
            for (String topic : EventConsumer.TOPICS) {
                for (int p = 0; p < PARTITIONS; p++) {
                    latest.put(new org.apache.kafka.common.TopicPartition(topic, p),
                            org.apache.kafka.clients.admin.OffsetSpec.latest());
                }
            }
            long lag = 0;
            for (var e : admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).entrySet()) {
                var done = committed.get(e.getKey());
                lag += e.getValue().offset() - (done == null ? 0 : done.offset());
            }
            return lag;
        }
    }

    boolean settled() {
        return Arrays.stream(ProviderKind.values()).allMatch(p -> survivor.backlog(p) == 0);
    }

    static List<LoggedRequest> requests() {
        return Harness.requests(wiremock);
    }

    /** POSTs to exactly {@code path} whose body contains {@code marker}. */
    static long posts(String path, String marker) {
        return requests().stream().filter(r -> r.getMethod().getName().equals("POST") && r.getUrl().equals(path)
                && r.getBodyAsString().contains(marker)).count();
    }

    /** The text of the last Slack post or update about {@code app}. */
    static String lastSlackText(String app) {
        List<String> texts = new ArrayList<>();
        for (LoggedRequest r : requests()) {
            if ((r.getUrl().equals("/slack/api/chat.postMessage") || r.getUrl().equals("/slack/api/chat.update"))
                    && r.getBodyAsString().contains("*" + app + "*")) {
                texts.add(r.getBodyAsString());
            }
        }
        assertThat(texts).as("Slack texts of %s", app).isNotEmpty();
        return texts.get(texts.size() - 1);
    }
}
