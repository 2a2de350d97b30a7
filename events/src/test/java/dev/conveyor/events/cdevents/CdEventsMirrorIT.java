package dev.conveyor.events.cdevents;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;

import dev.conveyor.events.kafka.ConveyorEventSerializer;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.ChartPublished;
import dev.conveyor.events.v1.CloudEventAttributes;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.EventJson;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.ReleaseDegraded;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.events.v1.SampleEvents;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.testkit.cdevents.CdEventSchemas;
import dev.conveyor.testkit.kafka.KafkaBroker;

/**
 * The mirror over a real broker: a run's Conveyor events, written to their topics as the stages write them, come out
 * on the CDEvents topic (Kafka binary mode) and at an HTTP sink (HTTP binary mode), every one valid against its
 * CDEvents schema and carrying the run as its chain and in its custom data.
 */
class CdEventsMirrorIT {

    static KafkaBroker broker;

    final List<CdEventsMirror> mirrors = new ArrayList<>();
    final List<HttpServer> servers = new ArrayList<>();
    final List<String> sinkFailures = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void startBroker() {
        broker = KafkaBroker.start();
        broker.createTopics(2, Topics.BUILD_SUCCEEDED, Topics.BUILD_FAILED, Topics.VERSION_RESOLVED,
                Topics.IMAGE_PUSHED, Topics.MANIFESTS_VALIDATED, Topics.CHART_PUBLISHED, Topics.RELEASE_PROMOTED,
                Topics.REPO_SYNCED, Topics.RELEASE_HEALTHY, Topics.RELEASE_DEGRADED, Topics.STAGE_FAILED);
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    @AfterEach
    void stop() {
        mirrors.forEach(CdEventsMirror::close);
        servers.forEach(server -> server.stop(0));
    }

    /** A received HTTP request: the CloudEvents headers and the body. */
    record Posted(Map<String, String> headers, byte[] body) {
    }

    @Test
    void aRunsEventsArriveOnTheTopicAndAtTheSinkEachAValidCdEventOfTheRun() throws Exception {
        List<Posted> posted = new CopyOnWriteArrayList<>();
        URI sink = sink(200, posted);
        startMirror("cdevents.it.run", "mirror-it-run", Optional.of(sink));
        List<ConveyorEvent> run = SampleEvents.all().stream()
                .filter(e -> e.run().runId().equals(SampleEvents.cdRun().runId())).toList();
        List<CdEvent> expected = run.stream()
                .flatMap(e -> CdEvents.of(e, CloudEventAttributes.idOf(e), stageOf(e).source()).stream()).toList();

        publish(run);

        List<ConsumerRecord<String, byte[]>> records = consume("cdevents.it.run", SampleEvents.cdRun().runId(),
                expected.size());
        assertThat(records).extracting(r -> header(r, "ce_id"))
                .containsExactlyInAnyOrderElementsOf(expected.stream().map(CdEvent::id).toList());
        for (ConsumerRecord<String, byte[]> record : records) {
            JsonNode cd = EventJson.mapper().readTree(record.value());
            assertThat(CdEventSchemas.violations(cd)).as("%s", cd).isEmpty();
            assertRun(cd);
            assertThat(record.key()).isEqualTo("shop-api");
            assertThat(header(record, "ce_specversion")).isEqualTo("1.0");
            assertThat(header(record, "ce_type")).isEqualTo(cd.at("/context/type").asText());
            assertThat(header(record, "ce_source")).isEqualTo(cd.at("/context/source").asText());
            assertThat(header(record, "ce_subject")).isEqualTo(cd.at("/subject/id").asText());
            assertThat(header(record, "ce_time")).isEqualTo(cd.at("/context/timestamp").asText());
            assertThat(header(record, "content-type")).isEqualTo("application/json");
        }
        assertThat(records).extracting(r -> header(r, "ce_type")).contains(CdEvents.CHANGE_MERGED,
                CdEvents.BUILD_FINISHED, CdEvents.TESTSUITERUN_FINISHED, CdEvents.ARTIFACT_PACKAGED,
                CdEvents.ARTIFACT_PUBLISHED, CdEvents.ENVIRONMENT_MODIFIED, CdEvents.SERVICE_DEPLOYED,
                CdEvents.INCIDENT_DETECTED);

        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(ofRun(posted)).hasSize(expected.size()));
        assertThat(ofRun(posted)).extracting(p -> p.headers().get("ce-id"))
                .containsExactlyInAnyOrderElementsOf(expected.stream().map(CdEvent::id).toList());
        for (Posted post : ofRun(posted)) {
            JsonNode cd = EventJson.mapper().readTree(post.body());
            assertThat(CdEventSchemas.violations(cd)).as("%s", cd).isEmpty();
            assertRun(cd);
            assertThat(post.headers()).containsEntry("ce-specversion", "1.0")
                    .containsEntry("ce-type", cd.at("/context/type").asText())
                    .containsEntry("ce-id", cd.at("/context/id").asText())
                    .containsEntry("content-type", "application/json");
        }
        assertThat(sinkFailures).isEmpty();
    }

    @Test
    void aSinkThatRefusesIsReportedWhileTheTopicStillGetsEveryCdEvent() throws Exception {
        URI sink = sink(503, new CopyOnWriteArrayList<>());
        startMirror("cdevents.it.refused", "mirror-it-refused", Optional.of(sink));
        PipelineRun run = PipelineRun.start("shop-api", "https://git.example.com/acme/shop-api.git",
                "5e1e3d4c5b6a798081726354453627181909a0b1", "main", null, Flow.CD);
        ImagePushed image = new ImagePushed(run, SampleEvents.AT, "cause", "1.5.0",
                "registry.example.com/acme/shop-api",
                List.of("1.5.0"), SampleEvents.DIGEST, 1000L);

        publish(List.of(image));

        assertThat(consume("cdevents.it.refused", run.runId(), 2)).extracting(r -> header(r, "ce_type"))
                .containsExactly(CdEvents.ARTIFACT_PACKAGED, CdEvents.ARTIFACT_PUBLISHED);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(sinkFailures)
                .contains(CdEvents.ARTIFACT_PACKAGED + ": HTTP 503", CdEvents.ARTIFACT_PUBLISHED + ": HTTP 503"));
    }

    @Test
    void aTopicThatLooksLikeConveyorsIsRefusedSoTheMirrorNeverReadsItsOwnOutput() {
        assertThatThrownBy(() -> settings("conveyor.cdevents.out", "g", Optional.empty()))
                .hasMessageContaining("cdevents topic: 'conveyor.cdevents.out' looks like a Conveyor topic");
        assertThatThrownBy(() -> settings("cdevents", "g", Optional.of(URI.create("file:///tmp/x"))))
                .hasMessageContaining("cdevents sink url: must be http or https");
    }

    /** What the sink got for the sample CD run (a new mirror group mirrors every run on the shared broker). */
    static List<Posted> ofRun(List<Posted> posted) {
        String chain = CdEvents.chainId(SampleEvents.cdRun().runId());
        return posted.stream().filter(p -> {
            try {
                return EventJson.mapper().readTree(p.body()).at("/context/chainId").asText().equals(chain);
            } catch (IOException e) {
                return false;
            }
        }).toList();
    }

    static void assertRun(JsonNode cd) {
        assertThat(cd.at("/context/chainId").asText()).isEqualTo(CdEvents.chainId(SampleEvents.cdRun().runId()));
        assertThat(cd.at("/customData/conveyor/runId").asText()).isEqualTo(SampleEvents.cdRun().runId());
    }

    static Stage stageOf(ConveyorEvent event) {
        if (event instanceof ImagePushed) {
            return Stage.IMAGE_BUILDER;
        }
        if (event instanceof ChartPublished) {
            return Stage.PROMOTER;
        }
        if (event instanceof RepoSynced || event instanceof ReleaseHealthy || event instanceof ReleaseDegraded) {
            return Stage.FLUX_SYNC;
        }
        return event instanceof BuildSucceeded ? Stage.GATEWAY : Stage.VERSIONER;
    }

    static CdEventsMirror.Settings settings(String topic, String group, Optional<URI> sink) {
        return new CdEventsMirror.Settings(broker.bootstrapServers(), Map.of(), topic, group, sink,
                Duration.ofSeconds(5), 2, Duration.ofMillis(100), Duration.ofSeconds(1));
    }

    void startMirror(String topic, String group, Optional<URI> sink) {
        mirrors.add(new CdEventsMirror(settings(topic, group, sink), new CdEventsMirror.Listener() {
            @Override
            public void mirrored(CdEvent event) {
            }

            @Override
            public void sinkFailed(CdEvent event, String reason) {
                sinkFailures.add(event.type() + ": " + reason);
            }

            @Override
            public void skipped(String topic, String reason) {
            }
        }).start());
    }

    /** Writes events as the stages do: value = event JSON, key = app, CloudEvents attributes as headers. */
    static void publish(List<ConveyorEvent> events) throws Exception {
        Map<String, Object> props = new HashMap<>();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, ConveyorEvent> producer = new KafkaProducer<>(props, new StringSerializer(),
                new ConveyorEventSerializer())) {
            for (ConveyorEvent event : events) {
                CloudEventAttributes ce = CloudEventAttributes.of(event, stageOf(event));
                RecordHeaders headers = new RecordHeaders();
                headers.add("ce_specversion", "1.0".getBytes(StandardCharsets.UTF_8));
                headers.add("ce_id", ce.id().getBytes(StandardCharsets.UTF_8));
                headers.add("ce_type", ce.type().getBytes(StandardCharsets.UTF_8));
                headers.add("ce_source", ce.source().getBytes(StandardCharsets.UTF_8));
                headers.add("ce_subject", ce.subject().getBytes(StandardCharsets.UTF_8));
                producer.send(new ProducerRecord<>(event.eventType().topic(), null, event.run().app(), event,
                        headers)).get(30, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * Reads the topic from the beginning until {@code count} CDEvents of the run arrived (the broker is shared, and a
     * new mirror group mirrors every run on it).
     */
    static List<ConsumerRecord<String, byte[]>> consume(String topic, String runId, int count) {
        String chain = CdEvents.chainId(runId);
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + topic);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    if (EventJson.mapper().readTree(record.value()).at("/context/chainId").asText().equals(chain)) {
                        records.add(record);
                    }
                }
                return records.size() >= count;
            });
        }
        return records;
    }

    static String header(ConsumerRecord<String, byte[]> record, String name) {
        return record.headers().lastHeader(name) == null
                ? null
                : new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    /** An HTTP sink on loopback answering {@code status} to every POST and recording it. */
    URI sink(int status, List<Posted> posted) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/events", exchange -> {
            Map<String, String> headers = new HashMap<>();
            exchange.getRequestHeaders().forEach((name, values) -> headers.put(name.toLowerCase(), values.get(0)));
            byte[] body = exchange.getRequestBody().readAllBytes();
            if ("POST".equals(exchange.getRequestMethod())) {
                posted.add(new Posted(headers, body));
            }
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        server.start();
        servers.add(server);
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/events");
    }

}
