package dev.conveyor.gateway.rest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.conveyor.events.v1.BuildFailed;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.CloudEventAttributes;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.EventType;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.RunIds;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.TestSummary;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.gateway.domain.HookSignature;
import dev.conveyor.gateway.support.RunEvents;
import dev.conveyor.gateway.support.Topic;
import dev.conveyor.testkit.kafka.KafkaBrokerResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kafka.InjectKafkaCompanion;
import io.restassured.response.Response;
import io.smallrye.reactive.messaging.kafka.companion.KafkaCompanion;

/** The hook as Jenkins calls it, over HTTP against the running gateway, with the events read from the real broker. */
@QuarkusTest
@QuarkusTestResource(KafkaBrokerResource.class)
class HookIT {

    static final String SECRET = "test-hook-secret";
    static final String TOKEN = "test-hook-token";

    @InjectKafkaCompanion
    KafkaCompanion companion;

    @BeforeEach
    void serde() {
        Topic.registerSerde(companion);
    }

    static String hook(String app, int commitSeed, String result, String buildUrl) {
        String common = """
                "repoUrl": "https://git.example.com/org/%s.git", "commit": "%s", "branch": "main",
                "buildUrl": "%s", "tests": {"passed": 40, "failed": %d, "skipped": 2}, "lint": {"errors": 0, "warnings": 3}
                """
                .formatted(app, RunEvents.commit(commitSeed), buildUrl, result.equals("SUCCESS") ? 0 : 3);
        return result.equals("SUCCESS")
                ? """
                        {"result": "SUCCESS", %s, "artifact": {"url": "%s/artifact/app.jar", "sha256": "%s", "kind": "jar"}}
                        """
                        .formatted(common, buildUrl, RunEvents.SHA)
                : """
                        {"result": "FAILURE", %s, "failedStep": "test", "reason": "3 tests failed"}
                        """.formatted(common);
    }

    static Response signed(String body) {
        return given().header(HookResource.SIGNATURE_HEADER,
                HookSignature.sign(body.getBytes(StandardCharsets.UTF_8), SECRET))
                .contentType("application/json").body(body.getBytes(StandardCharsets.UTF_8))
                .post("/hooks/jenkins");
    }

    @Test
    void aSignedSuccessfulBuildIsPublishedAsBuildSucceededCloudEvent() {
        String body = hook("hook-signed", 1, "SUCCESS", "https://jenkins.example.com/job/hook-signed/1");
        String runId = RunIds.of("https://git.example.com/org/hook-signed.git", RunEvents.commit(1), Flow.CD, null);

        signed(body).then().statusCode(202).body("runId", equalTo(runId)).body("attempt", equalTo(1))
                .body("event", equalTo("BuildSucceeded")).body("duplicate", equalTo(false))
                .header("Location", "/runs/" + runId);

        ConsumerRecord<String, ConveyorEvent> record = Topic.await(companion, Topics.BUILD_SUCCEEDED, "hook-signed", 1)
                .get(0);
        BuildSucceeded event = (BuildSucceeded) record.value();
        assertThat(event.run().runId()).isEqualTo(runId);
        assertThat(event.run().attempt()).isEqualTo(1);
        assertThat(event.run().commit()).isEqualTo(RunEvents.commit(1));
        assertThat(event.run().flow()).isEqualTo(Flow.CD);
        assertThat(event.artifact().sha256()).isEqualTo(RunEvents.SHA);
        assertThat(event.artifact().uri()).isEqualTo("https://jenkins.example.com/job/hook-signed/1/artifact/app.jar");
        assertThat(event.tests()).isEqualTo(new TestSummary(40, 0, 2, 0, 3));
        assertThat(Topic.header(record, "ce_type")).isEqualTo(EventType.BUILD_SUCCEEDED.type());
        assertThat(Topic.header(record, "ce_source")).isEqualTo(Stage.GATEWAY.source());
        assertThat(Topic.header(record, "ce_id")).isEqualTo(CloudEventAttributes.idOf(event));
        assertThat(Topic.header(record, "ce_subject")).isEqualTo(runId);
    }

    @Test
    void aBearerTokenFailedBuildIsPublishedAsBuildFailed() {
        String body = hook("hook-bearer", 2, "FAILURE", "https://jenkins.example.com/job/hook-bearer/7");

        given().header("Authorization", "Bearer " + TOKEN).contentType("application/json").body(body)
                .post("/hooks/jenkins").then().statusCode(202).body("event", equalTo("BuildFailed"));

        BuildFailed event = (BuildFailed) Topic.await(companion, Topics.BUILD_FAILED, "hook-bearer", 1).get(0)
                .value();
        assertThat(event.failedStep()).isEqualTo("test");
        assertThat(event.reason()).isEqualTo("3 tests failed");
        assertThat(event.tests().testsFailed()).isEqualTo(3);
        assertThat(event.buildUrl()).isEqualTo("https://jenkins.example.com/job/hook-bearer/7");
    }

    @Test
    void withoutAValidSignatureOrTokenNothingIsPublished() {
        String body = hook("hook-denied", 3, "SUCCESS", "https://jenkins.example.com/job/hook-denied/1");
        String otherBody = hook("hook-denied", 4, "SUCCESS", "https://jenkins.example.com/job/hook-denied/2");
        String otherSignature = HookSignature.sign(otherBody.getBytes(StandardCharsets.UTF_8), SECRET);

        for (var request : List.of(given(), given().header("Authorization", "Bearer wrong"),
                given().header("Authorization", "Basic " + TOKEN),
                given().header(HookResource.SIGNATURE_HEADER, otherSignature),
                given().header(HookResource.SIGNATURE_HEADER,
                        HookSignature.sign(body.getBytes(StandardCharsets.UTF_8), "wrong-secret")))) {
            request.contentType("application/json").body(body).post("/hooks/jenkins").then().statusCode(401)
                    .contentType("application/problem+json").body("reason", equalTo("UNAUTHORIZED"))
                    .header("WWW-Authenticate", containsString("Bearer"));
        }
        // The one valid hook after the refused ones: if any refused one had been published, it would be there too.
        signed(otherBody).then().statusCode(202);
        List<ConsumerRecord<String, ConveyorEvent>> records = Topic.await(companion, Topics.BUILD_SUCCEEDED,
                "hook-denied", 1);
        assertThat(records).extracting(r -> r.value().run().commit()).containsExactly(RunEvents.commit(4));
    }

    @Test
    void everyInvalidFieldIsNamedInAProblemDocumentAndCredentialsAreNotEchoed() {
        String body = """
                {"result": "SUCCESS", "repoUrl": "https://bot:s3cr3t-t0ken@git.example.com/org/shop.git",
                 "commit": "not-a-sha", "branch": "main", "pullRequest": -4, "buildUrl": "ftp://jenkins/1",
                 "artifact": {"url": "https://jenkins.example.com/a.jar", "sha256": "abc"},
                 "tests": {"passed": "many"}}
                """;
        String response = signed(body).then().statusCode(400).contentType("application/problem+json")
                .body("status", equalTo(400)).body("reason", equalTo("INVALID_HOOK"))
                .body("type", equalTo("https://conveyor.dev/problems/invalid-hook"))
                .body("errors.field", containsInAnyOrder("repoUrl", "commit", "pullRequest", "buildUrl",
                        "artifact.sha256", "tests.passed"))
                .body(not(containsString("s3cr3t"))).extract().asString();
        assertThat(response).contains("credentials");

        signed("{\"result\": \"SUCCESS\", ").then().statusCode(400).body("errors[0].field", equalTo("$"));
    }

    @Test
    void aBodyOverTheLimitIsRefusedWith413() {
        String padding = "x".repeat(1024 * 1024);
        String body = hook("hook-large", 5, "SUCCESS", "https://jenkins.example.com/job/hook-large/1")
                .replaceFirst("\\{", "{\"padding\": \"" + padding + "\", ");

        signed(body).then().statusCode(413).contentType("application/problem+json")
                .body("reason", equalTo("BODY_TOO_LARGE"));
    }

    @Test
    void aRedeliveredHookGetsTheSameRunIdAndStartsNoSecondRun() {
        String body = hook("hook-again", 6, "SUCCESS", "https://jenkins.example.com/job/hook-again/1");
        String runId = signed(body).then().statusCode(202).extract().path("runId");

        // Redelivered at once (not read back yet) and again once the read model has the run.
        signed(body).then().statusCode(200).body("runId", equalTo(runId)).body("duplicate", equalTo(true));
        await().atMost(Duration.ofSeconds(30))
                .until(() -> given().header("Authorization", "Bearer test-viewer-token").get("/runs/" + runId)
                        .statusCode() == 200);
        signed(body).then().statusCode(200).body("runId", equalTo(runId)).body("attempt", equalTo(1));

        // A later build of the app marks the end of what the redeliveries could have published.
        signed(hook("hook-again", 7, "SUCCESS", "https://jenkins.example.com/job/hook-again/2")).then()
                .statusCode(202);
        List<ConsumerRecord<String, ConveyorEvent>> records = Topic.await(companion, Topics.BUILD_SUCCEEDED,
                "hook-again", 2);
        assertThat(records).extracting(r -> r.value().run().commit()).containsExactly(RunEvents.commit(6),
                RunEvents.commit(7));
    }

    @Test
    void aNewBuildAfterAFailedOneIsTheRunsNextAttempt() {
        String failed = hook("hook-rebuild", 8, "FAILURE", "https://jenkins.example.com/job/hook-rebuild/1");
        String fixed = hook("hook-rebuild", 8, "SUCCESS", "https://jenkins.example.com/job/hook-rebuild/2");
        String runId = signed(failed).then().statusCode(202).extract().path("runId");

        signed(fixed).then().statusCode(202).body("runId", equalTo(runId)).body("attempt", equalTo(2));

        BuildSucceeded event = (BuildSucceeded) Topic.await(companion, Topics.BUILD_SUCCEEDED, "hook-rebuild", 1)
                .get(0).value();
        assertThat(event.run().attempt()).isEqualTo(2);
        assertThat(event.run().runId()).isEqualTo(runId);
    }
}
