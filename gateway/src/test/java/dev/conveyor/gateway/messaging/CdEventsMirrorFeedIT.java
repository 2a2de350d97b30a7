package dev.conveyor.gateway.messaging;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import dev.conveyor.events.cdevents.CdEvents;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.EventJson;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.gateway.support.RunEvents;
import dev.conveyor.gateway.support.Topic;
import dev.conveyor.testkit.kafka.KafkaBrokerResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kafka.InjectKafkaCompanion;
import io.smallrye.reactive.messaging.kafka.companion.ConsumerTask;
import io.smallrye.reactive.messaging.kafka.companion.KafkaCompanion;

/**
 * With {@code conveyor.cdevents.enabled}, a Jenkins hook sent to the running gateway comes out on the CDEvents topic
 * too: the change merged, the build finished and its test suite run, each carrying the run as chain and custom data.
 * (Every CDEvent's schema is checked in the events module's {@code CdEventsMirrorIT}, which runs the same mirror.)
 */
@QuarkusTest
@QuarkusTestResource(KafkaBrokerResource.class)
@TestProfile(CdEventsMirrorFeedIT.MirrorOn.class)
class CdEventsMirrorFeedIT {

    static final String TOPIC = "cdevents.gateway-it";

    /** The mirror on, writing to its own topic. */
    public static class MirrorOn implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("conveyor.cdevents.enabled", "true", "conveyor.cdevents.topic", TOPIC,
                    "conveyor.cdevents.group-id", "cdevents-gateway-it");
        }
    }

    @InjectKafkaCompanion
    KafkaCompanion companion;

    @BeforeEach
    void serde() {
        Topic.registerSerde(companion);
    }

    @Test
    void aHookIsMirroredAsTheChangeMergedTheBuildFinishedAndItsTestSuiteRun() throws Exception {
        String body = """
                {"result": "SUCCESS", "repoUrl": "https://git.example.com/org/cd-mirror.git", "commit": "%s",
                 "branch": "main", "buildUrl": "https://jenkins.example.com/job/cd-mirror/3/",
                 "tests": {"passed": 40, "failed": 0, "skipped": 2}, "lint": {"errors": 0, "warnings": 7},
                 "artifact": {"url": "https://jenkins.example.com/job/cd-mirror/3/artifact/app.jar", "sha256": "%s"}}
                """.formatted(RunEvents.commit(77), RunEvents.SHA);
        given().header("Authorization", "Bearer test-hook-token").contentType("application/json")
                .body(body.getBytes(StandardCharsets.UTF_8)).post("/hooks/jenkins").then().statusCode(202);
        ConsumerRecord<String, ConveyorEvent> built = Topic.await(companion, Topics.BUILD_SUCCEEDED, "cd-mirror", 1)
                .get(0);
        String runId = built.value().run().runId();

        ConsumerTask<String, byte[]> task = companion.consume(String.class, byte[].class).fromTopics(TOPIC);
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> ofRun(task.getRecords(), runId).size() >= 3);
            List<ConsumerRecord<String, byte[]>> mirrored = ofRun(task.getRecords(), runId);
            assertThat(mirrored).extracting(r -> Topic.header(r, "ce_type")).containsExactly(CdEvents.CHANGE_MERGED,
                    CdEvents.BUILD_FINISHED, CdEvents.TESTSUITERUN_FINISHED);
            for (ConsumerRecord<String, byte[]> record : mirrored) {
                JsonNode cd = EventJson.mapper().readTree(record.value());
                assertThat(record.key()).isEqualTo("cd-mirror");
                assertThat(cd.at("/context/version").asText()).isEqualTo(CdEvents.SPEC_VERSION);
                assertThat(cd.at("/context/source").asText()).isEqualTo("/conveyor/gateway");
                assertThat(cd.at("/context/id").asText()).isEqualTo(Topic.header(record, "ce_id"));
                assertThat(cd.at("/customData/conveyor/eventId").asText())
                        .isEqualTo(Topic.header(built, "ce_id"));
            }
            JsonNode suite = EventJson.mapper().readTree(mirrored.get(2).value());
            assertThat(suite.at("/subject/content/outcome").asText()).isEqualTo("pass");
        } finally {
            task.stop();
        }
    }

    static List<ConsumerRecord<String, byte[]>> ofRun(List<ConsumerRecord<String, byte[]>> records, String runId) {
        String chain = CdEvents.chainId(runId);
        return records.stream().filter(r -> {
            try {
                JsonNode cd = EventJson.mapper().readTree(r.value());
                return cd.at("/context/chainId").asText().equals(chain)
                        && cd.at("/customData/conveyor/runId").asText().equals(runId);
            } catch (java.io.IOException e) {
                return false;
            }
        }).toList();
    }
}
