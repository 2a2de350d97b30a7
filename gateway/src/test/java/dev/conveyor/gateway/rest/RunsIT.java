package dev.conveyor.gateway.rest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.gateway.domain.Replays;
import dev.conveyor.gateway.domain.Step;
import dev.conveyor.gateway.domain.Views.RunView;
import dev.conveyor.gateway.messaging.EventLogReader;
import dev.conveyor.gateway.service.PipelineMetrics;
import dev.conveyor.gateway.service.RunReadModel;
import dev.conveyor.gateway.support.RunEvents;
import dev.conveyor.gateway.support.Topic;
import dev.conveyor.testkit.kafka.KafkaBrokerResource;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kafka.InjectKafkaCompanion;
import io.smallrye.reactive.messaging.kafka.companion.KafkaCompanion;

/**
 * The run read model as deployed: events published on the real broker by the stages (here: by the test), timelines
 * over REST and server-sent events, replays re-published on the broker, and the same timelines rebuilt from the log.
 */
@QuarkusTest
@QuarkusTestResource(KafkaBrokerResource.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RunsIT {

    static final String API = "Bearer test-api-token";
    static final String VIEWER = "Bearer test-viewer-token";
    static final Instant T0 = Instant.now().truncatedTo(ChronoUnit.SECONDS).minus(1, ChronoUnit.HOURS);

    @InjectKafkaCompanion
    KafkaCompanion companion;

    @Inject
    RunReadModel readModel;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @TestHTTPResource("/")
    URI base;

    @BeforeEach
    void serde() {
        Topic.registerSerde(companion);
    }

    void publish(List<? extends ConveyorEvent> events) {
        companion.produce(String.class, ConveyorEvent.class).fromRecords(events.stream()
                .map(e -> new ProducerRecord<String, ConveyorEvent>(e.eventType().topic(), e.run().app(), e))
                .toList()).awaitCompletion(Duration.ofSeconds(30));
    }

    static io.restassured.response.ValidatableResponse awaitRun(String runId, String status) {
        await().atMost(Duration.ofSeconds(30))
                .until(() -> status.equals(given().header("Authorization", VIEWER).get("/runs/" + runId).then()
                        .extract().path("status")));
        return given().header("Authorization", VIEWER).get("/runs/" + runId).then().statusCode(200);
    }

    @Test
    @Order(1)
    void aFullCdRunIsOneGreenTimelineWithLinksAndFilters() {
        RunEvents run = RunEvents.cd("runs-full", 1, T0);
        publish(run.all());

        awaitRun(run.run().runId(), "SUCCEEDED").body("app", equalTo("runs-full")).body("flow", equalTo("CD"))
                .body("attempt", equalTo(1)).body("durationMillis", equalTo(30_000))
                .body("steps.id", equalTo(List.of("build", "versioner", "image-builder", "manifest-renderer",
                        "promoter", "flux-sync")))
                .body("steps.status", equalTo(List.of("SUCCEEDED", "SUCCEEDED", "SUCCEEDED", "SUCCEEDED",
                        "SUCCEEDED", "SUCCEEDED")))
                .body("steps.durationMillis", equalTo(java.util.Arrays.asList(null, 2000, 3000, 4000, 5000,
                        16000)))
                .body("links.rel", hasItem("gitops-commit")).body("links.rel", hasItem("image"))
                .body("events.type", equalTo(List.of("BuildSucceeded", "VersionResolved", "ImagePushed",
                        "ManifestsValidated", "ChartPublished", "ReleasePromoted", "RepoSynced",
                        "ReleaseHealthy")));

        given().header("Authorization", VIEWER).queryParam("app", "runs-full").queryParam("status", "succeeded")
                .queryParam("flow", "CD")
                .get("/runs").then().statusCode(200).body("runId", equalTo(List.of(run.run().runId())))
                .body("[0].events", equalTo(List.of()));
        given().header("Authorization", VIEWER).queryParam("app", "runs-full").queryParam("status", "FAILED")
                .get("/runs").then()
                .body("size()", equalTo(0));
        given().header("Authorization", VIEWER).queryParam("status", "GREEN").get("/runs").then().statusCode(400)
                .contentType("application/problem+json").body("errors[0].field", equalTo("status"));
        given().header("Authorization", VIEWER).get("/runs/r-000000000000000000000000").then().statusCode(404)
                .contentType("application/problem+json").body("reason", equalTo("UNKNOWN_RUN"));

        // Live events are measured: the run's outcome, its lead time (hook to ReleaseHealthy) and the deployment.
        given().get("/q/metrics").then().statusCode(200)
                .body(org.hamcrest.Matchers.matchesPattern(
                        "(?s).*conveyor_pipeline_runs_total\\{flow=\"CD\",outcome=\"succeeded\",?} [1-9].*"))
                .body(org.hamcrest.Matchers.matchesPattern(
                        "(?s).*conveyor_pipeline_lead_time_seconds_count\\{flow=\"CD\",?} [1-9].*"))
                .body(org.hamcrest.Matchers.matchesPattern(
                        "(?s).*conveyor_deployments_total\\{outcome=\"healthy\",?} [1-9].*"));
    }

    @Test
    @Order(2)
    void aFailedRunIsReplayedFromTheFailedStageAndFinishes() {
        RunEvents run = RunEvents.ci("runs-replay", 2, T0.plusSeconds(60));
        String runId = run.run().runId();
        publish(List.of(run.build(), run.version(), run.failed(Stage.IMAGE_BUILDER, 4)));
        awaitRun(runId, "FAILED").body("steps[2].status", equalTo("FAILED"))
                .body("steps[2].detail", equalTo("REGISTRY_DENIED: push refused"));

        given().post("/runs/" + runId + "/replay?from=image-builder").then().statusCode(401)
                .body("reason", equalTo("UNAUTHORIZED"));
        given().header("Authorization", API).post("/runs/" + runId + "/replay?from=deployer").then()
                .statusCode(400).contentType("application/problem+json").body("reason", equalTo("UNKNOWN_STAGE"))
                .body("detail", containsString("image-builder"));
        given().header("Authorization", API).post("/runs/" + runId + "/replay?from=build").then().statusCode(400)
                .body("reason", equalTo("NOT_REPLAYABLE"));
        given().header("Authorization", API).post("/runs/r-ffffffffffffffffffffffff/replay?from=versioner").then()
                .statusCode(404).body("reason", equalTo("UNKNOWN_RUN"));
        given().header("Authorization", API).post("/runs/" + runId + "/replay?from=manifest-renderer").then()
                .statusCode(409).body("reason", equalTo("NO_RECORDED_INPUT"));

        given().header("Authorization", API).post("/runs/" + runId + "/replay?from=image-builder").then()
                .statusCode(202).body("attempt", equalTo(2)).body("events[0].type", equalTo("VersionResolved"));
        ConsumerRecord<String, ConveyorEvent> replayed = Topic.awaitMatching(companion,
                run.version().eventType().topic(),
                r -> r.value().run().runId().equals(runId) && r.value().run().attempt() == 2, 1).get(0);
        assertThat(Topic.header(replayed, "ce_source")).isEqualTo(Stage.GATEWAY.source());
        assertThat(Replays.withAttempt(replayed.value(), 1, run.version().occurredAt())).isEqualTo(run.version());
        awaitRun(runId, "RUNNING").body("attempt", equalTo(2)).body("steps[2].status", equalTo("RUNNING"))
                .body("steps[2].attempt", equalTo(2));

        RunEvents second = run.again(2, replayed.value().occurredAt().minusSeconds(2));
        publish(List.of(second.image(), second.manifests()));
        awaitRun(runId, "SUCCEEDED").body("steps[2].runs", equalTo(2)).body("steps[3].attempt", equalTo(2))
                .body("steps[4].status", equalTo("SKIPPED")).body("events.replay", hasItem(true));
    }

    @Test
    @Order(3)
    void aReplayFromEachStageRepublishesItsInputAsTheNextAttempt() {
        RunEvents run = RunEvents.cd("runs-each", 3, T0.plusSeconds(120));
        String runId = run.run().runId();
        publish(run.all());
        awaitRun(runId, "SUCCEEDED");
        Map<Step, ConveyorEvent> inputs = Map.of(Step.VERSIONER, run.build(), Step.IMAGE_BUILDER, run.version(),
                Step.MANIFEST_RENDERER, run.image(), Step.PROMOTER, run.manifests(), Step.FLUX_SYNC,
                run.promoted("prod"));

        int attempt = 1;
        for (Step step : List.of(Step.VERSIONER, Step.IMAGE_BUILDER, Step.MANIFEST_RENDERER, Step.PROMOTER,
                Step.FLUX_SYNC)) {
            attempt++;
            int expected = attempt;
            given().header("Authorization", API).post("/runs/" + runId + "/replay?from=" + step.id()).then()
                    .statusCode(202).body("attempt", equalTo(expected)).body("from", equalTo(step.id()));
            ConveyorEvent input = inputs.get(step);
            ConsumerRecord<String, ConveyorEvent> record = Topic.awaitMatching(companion,
                    input.eventType().topic(),
                    r -> r.value().run().runId().equals(runId) && r.value().run().attempt() == expected, 1).get(0);
            assertThat(record.key()).isEqualTo("runs-each");
            assertThat(record.value().run()).isEqualTo(new dev.conveyor.events.v1.PipelineRun(runId, expected,
                    "runs-each", run.run().repoUrl(), run.run().commit(), "main", null, run.run().flow()));
            assertThat(Replays.withAttempt(record.value(), 1, input.occurredAt())).as(step.id()).isEqualTo(input);
            awaitRun(runId, "RUNNING").body("attempt", equalTo(expected));
        }
        // The window replay: every run of the app that started in it.
        given().header("Authorization", API)
                .post("/apps/runs-each/replay?from=flux-sync&since=" + T0 + "&until=" + T0.plusSeconds(3600))
                .then().statusCode(202).body("replayed[0].runId", equalTo(runId))
                .body("replayed[0].attempt", equalTo(7));
        given().header("Authorization", API).post("/apps/runs-each/replay?from=flux-sync&since=yesterday").then()
                .statusCode(400).body("errors[0].field", equalTo("since"));
        given().header("Authorization", API).post("/apps/nobody/replay?from=flux-sync&since=" + T0).then()
                .statusCode(404);
    }

    @Test
    @Order(4)
    void aRunsEventsAreStreamedAsServerSentEvents() throws Exception {
        RunEvents run = RunEvents.cd("runs-sse", 4, T0.plusSeconds(180));
        String runId = run.run().runId();
        publish(List.of(run.build()));
        awaitRun(runId, "RUNNING");
        List<String> lines = new CopyOnWriteArrayList<>();
        HttpClient client = HttpClient.newHttpClient();
        HttpResponse<java.io.InputStream> response = client.send(
                HttpRequest.newBuilder(base.resolve("/runs/" + runId + "/events"))
                        .header("Accept", "text/event-stream").header("Authorization", VIEWER).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.statusCode()).isEqualTo(200);
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    lines.add(line);
                }
            } catch (java.io.IOException e) {
                // closed at the end of the test
            }
        });
        reader.start();
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> lines.stream().anyMatch(l -> l.startsWith("data:")));
            publish(List.of(run.version(), run.image()));
            await().atMost(Duration.ofSeconds(30)).until(() -> lines.stream()
                    .anyMatch(l -> l.startsWith("data:") && l.contains("\"type\":\"ImagePushed\"")));
            assertThat(lines.stream().filter(l -> l.startsWith("data:")).toList()).anySatisfy(
                    l -> assertThat(l).contains("\"type\":\"VersionResolved\"").contains("\"id\":\"image-builder\""));
        } finally {
            response.body().close();
            reader.interrupt();
        }
        given().header("Authorization", VIEWER).get("/runs/r-000000000000000000000001/events").then().statusCode(404);
    }

    @Test
    @Order(5)
    void anUnreadableRecordIsSkippedAndTheLogReadOn() {
        RunEvents run = RunEvents.cd("runs-poison", 5, T0.plusSeconds(240));
        companion.produce(String.class, byte[].class).fromRecords(new ProducerRecord<>(
                run.version().eventType().topic(), "runs-poison", "{\"not\": \"an event\"}".getBytes(
                        StandardCharsets.UTF_8)))
                .awaitCompletion(Duration.ofSeconds(30));
        publish(List.of(run.build(), run.version()));

        awaitRun(run.run().runId(), "RUNNING").body("steps[2].status", equalTo("RUNNING"));
    }

    @Test
    @Order(6)
    void theReadModelRebuiltFromTheLogAfterARestartEqualsTheRunningOne() {
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        RunReadModel rebuilt = new RunReadModel(new PipelineMetrics(meters));
        try (EventLogReader reader = new EventLogReader(bootstrapServers, Map.of(), Duration.ofMillis(100),
                Duration.ofMillis(300), rebuilt::apply, rebuilt::markCaughtUp).start()) {
            await().atMost(Duration.ofSeconds(30)).until(rebuilt::caughtUp);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                List<RunView> running = readModel.snapshot();
                assertThat(running).extracting(RunView::app).contains("runs-full", "runs-replay", "runs-each",
                        "runs-sse");
                assertThat(rebuilt.snapshot()).isEqualTo(running);
            });
        }
        // The log read again is history: a restarted gateway counts none of it twice.
        assertThat(meters.get(PipelineMetrics.RUNS).counters()).allSatisfy(c -> assertThat(c.count()).isZero());
        assertThat(meters.get(PipelineMetrics.DEPLOYMENTS).counters()).allSatisfy(c -> assertThat(c.count())
                .isZero());
        assertThat(meters.get(PipelineMetrics.LEAD_TIME).timers()).allSatisfy(t -> assertThat(t.count()).isZero());
        given().get("/q/health/ready").then().statusCode(200).body(not(containsString("DOWN")));
    }
}
