package dev.conveyor.gateway.rest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.gateway.support.RunEvents;
import dev.conveyor.gateway.support.Topic;
import dev.conveyor.testkit.kafka.KafkaBrokerResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kafka.InjectKafkaCompanion;
import io.smallrye.reactive.messaging.kafka.companion.KafkaCompanion;

/**
 * Access to runs over HTTP: reading needs a viewer (or operator) token, both streams too (a bearer header or a
 * short-lived ticket), replaying needs an operator, and each replay is audited in the event log and on the run. Metrics
 * and health stay open for Kubernetes' probes.
 */
@QuarkusTest
@QuarkusTestResource(KafkaBrokerResource.class)
class AccessIT {

    static final String VIEWER = "Bearer test-viewer-token";
    static final String OPERATOR = "Bearer test-operator-token";
    static final Instant T0 = Instant.now().truncatedTo(ChronoUnit.SECONDS).minus(2, ChronoUnit.HOURS);

    @InjectKafkaCompanion
    KafkaCompanion companion;

    @TestHTTPResource("/")
    URI base;

    @BeforeEach
    void serde() {
        Topic.registerSerde(companion);
    }

    String publishedRun(String app, int seed) {
        RunEvents run = RunEvents.cd(app, seed, T0);
        companion.produce(String.class, ConveyorEvent.class).fromRecords(run.all().stream()
                .map(e -> new ProducerRecord<String, ConveyorEvent>(e.eventType().topic(), e.run().app(), e))
                .toList()).awaitCompletion(Duration.ofSeconds(30));
        String runId = run.run().runId();
        await().atMost(Duration.ofSeconds(30)).until(() -> given().header("Authorization", VIEWER)
                .get("/runs/" + runId).statusCode() == 200);
        return runId;
    }

    @Test
    void theReadApiNeedsAViewerToken() {
        String runId = publishedRun("access-read", 71);
        for (String path : List.of("/runs", "/runs/" + runId, "/auth/me")) {
            given().get(path).then().statusCode(401).header("WWW-Authenticate", containsString("Bearer"))
                    .body("reason", equalTo("UNAUTHORIZED"));
            given().header("Authorization", "Bearer wrong-secret-value").get(path).then().statusCode(401)
                    .body(not(containsString("wrong-secret-value")));
            given().header("Authorization", "Basic dGVzdC12aWV3ZXItdG9rZW4=").get(path).then().statusCode(401);
            given().header("Authorization", VIEWER).get(path).then().statusCode(200);
            given().header("Authorization", OPERATOR).get(path).then().statusCode(200);
        }
        given().header("Authorization", VIEWER).get("/auth/me").then().body("name", equalTo("viewer"))
                .body("role", equalTo("viewer"));
        given().header("Authorization", OPERATOR).get("/auth/me").then().body("role", equalTo("operator"));
    }

    @Test
    void metricsAndHealthStayOpenForProbes() {
        given().get("/q/metrics").then().statusCode(200);
        given().get("/q/health/live").then().statusCode(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> given().get("/q/health/ready").statusCode() == 200);
        given().get("/").then().statusCode(200).body(containsString("id=\"login\""));
    }

    @Test
    void bothStreamsNeedATokenOrATicket() throws Exception {
        String runId = publishedRun("access-sse", 72);
        for (String path : List.of("/runs/stream", "/runs/" + runId + "/events")) {
            assertThat(stream(path, null)).as(path + " without credentials").isEqualTo(401);
            assertThat(stream(path + "?ticket=made-up", null)).as(path + " with a made-up ticket").isEqualTo(401);
            assertThat(stream(path, VIEWER)).as(path + " with a viewer token").isEqualTo(200);
            String ticket = given().header("Authorization", VIEWER).post("/auth/ticket").then().statusCode(200)
                    .extract().path("ticket");
            assertThat(stream(path + "?ticket=" + ticket, null)).as(path + " with a ticket").isEqualTo(200);
        }
        given().post("/auth/ticket").then().statusCode(401);
    }

    /** The status a stream opens with (the stream is closed right away). */
    int stream(String path, String authorization) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).header("Accept", "text/event-stream")
                .timeout(Duration.ofSeconds(10));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        HttpResponse<java.io.InputStream> response = HttpClient.newHttpClient().send(request.build(),
                HttpResponse.BodyHandlers.ofInputStream());
        response.body().close();
        return response.statusCode();
    }

    @Test
    void replayingNeedsAnOperatorAndIsAuditedInTheLogAndOnTheRun() {
        String runId = publishedRun("access-replay", 73);
        String replay = "/runs/" + runId + "/replay?from=manifest-renderer";
        given().post(replay).then().statusCode(401);
        given().header("Authorization", VIEWER).post(replay).then().statusCode(403)
                .body("reason", equalTo("FORBIDDEN"));
        given().header("Authorization", VIEWER).post("/apps/access-replay/replay?from=promoter&since=" + T0)
                .then().statusCode(403);
        Instant before = Instant.now();
        given().header("Authorization", OPERATOR).post(replay).then().statusCode(202).body("attempt", equalTo(2));

        ConsumerRecord<String, ConveyorEvent> record = Topic.awaitMatching(companion, Topics.IMAGE_PUSHED,
                r -> r.value().run().runId().equals(runId) && r.value().run().attempt() == 2, 1).get(0);
        assertThat(Topic.header(record, "ce_replayby")).isEqualTo("operator");
        assertThat(Topic.header(record, "ce_replayfrom")).isEqualTo("manifest-renderer");
        assertThat(Instant.parse(Topic.header(record, "ce_replayat"))).isBetween(before.minusSeconds(1),
                Instant.now());

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> given().header("Authorization", VIEWER)
                .get("/runs/" + runId).then().statusCode(200)
                .body("replays.by", equalTo(List.of("operator")))
                .body("replays.from", equalTo(List.of("manifest-renderer")))
                .body("replays.attempt", equalTo(List.of(2)))
                .body("events.findAll { it.audit != null }.audit.by", equalTo(List.of("operator"))));
        given().header("Authorization", VIEWER).get("/runs?app=access-replay").then()
                .body("[0].replays.by", equalTo(List.of("operator")));
    }
}
