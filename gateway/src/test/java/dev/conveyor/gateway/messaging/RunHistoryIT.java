package dev.conveyor.gateway.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.conveyor.events.kafka.ConveyorEventSerializer;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.gateway.client.RunStore;
import dev.conveyor.gateway.domain.Step;
import dev.conveyor.gateway.domain.Views.RunView;
import dev.conveyor.gateway.domain.Views.Status;
import dev.conveyor.gateway.service.RunReadModel;
import dev.conveyor.gateway.support.RunEvents;
import dev.conveyor.testkit.kafka.KafkaBroker;

/**
 * Run history against a real broker: gateway read models (replicas, each with its own store) fed by the event topics
 * and the compacted run history topic, restarted, and started after the event topics' retention dropped records.
 */
class RunHistoryIT {

    static final String HISTORY = "conveyor.gateway.runs";
    static final Instant T0 = Instant.now().truncatedTo(ChronoUnit.SECONDS).minus(2, ChronoUnit.HOURS);

    KafkaBroker broker;
    KafkaProducer<String, ConveyorEvent> producer;
    final List<AutoCloseable> open = new ArrayList<>();

    @TempDir
    Path disks;

    @BeforeEach
    void broker() {
        broker = KafkaBroker.start();
        broker.createTopics(1, EventLogReader.topics().toArray(String[]::new));
        RunHistoryTopic.ensure(broker.bootstrapServers(), Map.of(), HISTORY, 2);
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        producer = new KafkaProducer<>(props, new StringSerializer(), new ConveyorEventSerializer());
    }

    @AfterEach
    void close() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
        producer.close();
        broker.close();
    }

    /** One gateway replica: its read model on the store in {@code disk} (or in memory), fed from the broker. */
    record Replica(RunReadModel model, RunHistoryFeed feed) implements AutoCloseable {
        long eventRecordsRead() {
            return feed.reader().eventRecordsRead();
        }

        @Override
        public void close() {
            feed.close();
            model.close();
        }
    }

    Replica start(String disk) {
        RunStore store = disk == null ? RunStore.inMemory() : RunStore.open(disks.resolve(disk));
        RunReadModel model = new RunReadModel(store, null, 50);
        RunHistoryFeed feed = new RunHistoryFeed(model, new RunHistoryFeed.Settings(broker.bootstrapServers(),
                Map.of(), Duration.ofMillis(100), Duration.ofMillis(300), HISTORY, 100, Duration.ofMillis(100),
                Duration.ofSeconds(10)), e -> {
                }).start();
        Replica replica = new Replica(model, feed);
        open.add(replica);
        await().atMost(Duration.ofSeconds(30)).until(model::caughtUp);
        return replica;
    }

    void stop(Replica replica) {
        open.remove(replica);
        replica.close();
    }

    void publish(List<? extends ConveyorEvent> events) throws Exception {
        for (ConveyorEvent e : events) {
            producer.send(new ProducerRecord<>(e.eventType().topic(), e.run().app(), e)).get(10, TimeUnit.SECONDS);
        }
    }

    /** What the event topics' retention does: every record published so far is deleted. */
    void retentionDropsEverythingSoFar() throws Exception {
        try (Admin admin = broker.admin()) {
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (String topic : EventLogReader.topics()) {
                latest.put(new TopicPartition(topic, 0), OffsetSpec.latest());
            }
            Map<TopicPartition, RecordsToDelete> delete = new HashMap<>();
            admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS)
                    .forEach((tp, info) -> delete.put(tp, RecordsToDelete.beforeOffset(info.offset())));
            admin.deleteRecords(delete).all().get(30, TimeUnit.SECONDS);
            admin.listOffsets(Map.of(new TopicPartition(RunEvents.cd("x", 0, T0).build().eventType().topic(), 0),
                    OffsetSpec.earliest())).all().get(30, TimeUnit.SECONDS).values()
                    .forEach(info -> assertThat(info.offset()).as("log start after deleteRecords").isPositive());
        }
    }

    /** Waits until the replica has written every changed run's snapshot to the history topic. */
    static void awaitSnapshotsWritten(Replica replica) {
        await().atMost(Duration.ofSeconds(30)).until(() -> replica.model().pendingSnapshots(1).isEmpty());
    }

    static List<RunView> all(Replica replica) {
        return replica.model().list(Optional.empty(), Optional.empty(), Optional.empty(), 1000);
    }

    @Test
    void aRunOlderThanTheEventTopicsRetentionStaysOnThePageAndReplayableAfterARestart() throws Exception {
        RunEvents old = RunEvents.cd("history-old", 1, T0);
        publish(old.all());
        Replica first = start("gateway-0");
        await().atMost(Duration.ofSeconds(30)).until(() -> first.model().get(old.run().runId())
                .map(v -> v.status() == Status.SUCCEEDED).orElse(false));
        awaitSnapshotsWritten(first);
        stop(first);

        retentionDropsEverythingSoFar();
        RunEvents recent = RunEvents.ci("history-new", 2, T0.plusSeconds(600));
        publish(recent.all());

        Replica restarted = start("gateway-0");
        await().atMost(Duration.ofSeconds(30)).until(() -> restarted.model().get(recent.run().runId()).isPresent());
        RunView run = restarted.model().get(old.run().runId()).orElseThrow();
        assertThat(run.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(run.events()).hasSize(old.all().size());
        assertThat(all(restarted)).extracting(RunView::runId).containsExactly(recent.run().runId(),
                old.run().runId());
        // What a replay re-publishes is still there: the recorded input of every stage.
        assertThat(restarted.model().withRun(old.run().runId(), t -> t.recordedInput(Step.PROMOTER)).orElseThrow())
                .containsExactly(old.manifests());
    }

    @Test
    void aRestartReadsOnlyWhatIsNewNotTheWholeLog() throws Exception {
        List<RunEvents> runs = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            RunEvents run = RunEvents.cd("history-restart", 100 + i, T0.plusSeconds(60L * i));
            runs.add(run);
            publish(run.all());
        }
        int logSize = runs.size() * runs.get(0).all().size();
        Replica first = start("gateway-0");
        assertThat(first.eventRecordsRead()).isEqualTo(logSize);
        await().atMost(Duration.ofSeconds(30)).until(() -> all(first).size() == runs.size());
        stop(first);

        RunEvents next = RunEvents.ci("history-restart", 200, T0.plusSeconds(3600));
        publish(next.all());
        Replica restarted = start("gateway-0");
        await().atMost(Duration.ofSeconds(30)).until(() -> restarted.model().get(next.run().runId()).isPresent());
        assertThat(restarted.eventRecordsRead()).as("event records read after the restart")
                .isEqualTo(next.all().size());
        assertThat(all(restarted)).hasSize(runs.size() + 1);
    }

    @Test
    void twoReplicasShowTheSameRunsEvenOneStartedAfterRetentionDroppedTheirEvents() throws Exception {
        RunEvents first = RunEvents.cd("history-a", 1, T0);
        RunEvents second = RunEvents.cd("history-b", 2, T0.plusSeconds(10));
        RunEvents failed = RunEvents.ci("history-a", 3, T0.plusSeconds(20));
        publish(first.all());
        publish(second.all().subList(0, 6));
        publish(List.of(failed.build(), failed.version(), failed.failed(Stage.IMAGE_BUILDER, 4)));
        Replica a = start("gateway-a");
        await().atMost(Duration.ofSeconds(30)).until(() -> all(a).size() == 3);
        awaitSnapshotsWritten(a);

        retentionDropsEverythingSoFar();
        Replica b = start("gateway-b");
        // After the drop, the runs go on: a replay of the failed run, the second run's sync and health.
        RunEvents replayed = failed.again(2, T0.plusSeconds(120));
        publish(List.of(replayed.image(), replayed.manifests(), second.synced(), second.healthy()));

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(all(b)).extracting(RunView::status).containsExactly(Status.SUCCEEDED, Status.SUCCEEDED,
                    Status.SUCCEEDED);
            assertThat(b.model().snapshot()).isEqualTo(a.model().snapshot());
            assertThat(all(b)).isEqualTo(all(a));
        });
        assertThat(all(b)).extracting(RunView::flow).containsExactly(Flow.CI, Flow.CD, Flow.CD);

        // Both replicas wrote snapshots; the history topic's last record of each run is the whole run.
        awaitSnapshotsWritten(a);
        awaitSnapshotsWritten(b);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            Map<String, byte[]> latest = latestSnapshots();
            for (RunView run : all(a)) {
                assertThat(new String(latest.get(run.runId()))).as(run.runId())
                        .isEqualTo(new String(a.model().snapshotOf(run.runId())))
                        .isEqualTo(new String(b.model().snapshotOf(run.runId())));
            }
        });
    }

    @Test
    void aReplicaServesRunsBeforeItsHistoryTopicIsAskedForAndWritesSnapshotsOnlyOnceItIs() throws Exception {
        // The gateway asks for its history topic off the start path (RunHistoryTopic.ensureInBackground): until that
        // returned, the read model reads and serves as usual and keeps its snapshots pending, so that no write
        // creates the topic with the broker's defaults (this broker creates topics on first use: not compacted).
        String topic = "conveyor.gateway.runs.late";
        RunEvents run = RunEvents.cd("history-late", 1, T0);
        publish(run.all());
        AtomicBoolean asked = new AtomicBoolean();
        RunReadModel model = new RunReadModel(RunStore.inMemory(), null, 50);
        RunHistoryFeed feed = new RunHistoryFeed(model, new RunHistoryFeed.Settings(broker.bootstrapServers(),
                Map.of(), Duration.ofMillis(100), Duration.ofMillis(300), topic, 100, Duration.ofMillis(100),
                Duration.ofSeconds(10)), e -> {
                }, asked::get).start();
        open.add(new Replica(model, feed));

        await().atMost(Duration.ofSeconds(30)).until(model::caughtUp);
        await().atMost(Duration.ofSeconds(30)).until(() -> model.get(run.run().runId())
                .map(v -> v.status() == Status.SUCCEEDED).orElse(false));
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10))
                .until(() -> !model.pendingSnapshots(1).isEmpty());
        try (Admin admin = broker.admin()) {
            assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS)).doesNotContain(topic);
        }

        RunHistoryTopic.ensureInBackground(broker.bootstrapServers(), Map.of(), topic, 2).get(30, TimeUnit.SECONDS);
        asked.set(true);
        awaitSnapshotsWritten(new Replica(model, feed));
        try (Admin admin = broker.admin()) {
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            assertThat(admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource)
                    .get(TopicConfig.CLEANUP_POLICY_CONFIG).value()).isEqualTo(TopicConfig.CLEANUP_POLICY_COMPACT);
        }
        assertThat(model.get(run.run().runId()).orElseThrow().events()).hasSize(run.all().size());
    }

    /** The last record of every key of the history topic. */
    Map<String, byte[]> latestSnapshots() {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        Map<String, byte[]> latest = new HashMap<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> parts = c.partitionsFor(HISTORY).stream()
                    .map(p -> new TopicPartition(HISTORY, p.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    latest.put(r.key(), r.value());
                }
            }
        }
        return latest;
    }
}
