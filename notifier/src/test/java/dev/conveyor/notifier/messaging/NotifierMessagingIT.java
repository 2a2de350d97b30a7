package dev.conveyor.notifier.messaging;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.patch;
import static com.github.tomakehurst.wiremock.client.WireMock.patchRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.List;

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serdes;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.github.tomakehurst.wiremock.WireMockServer;

import dev.conveyor.events.kafka.ConveyorEventDeserializer;
import dev.conveyor.events.kafka.ConveyorEventSerializer;
import dev.conveyor.events.v1.CloudEventAttributes;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.EventType;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.notifier.domain.ProviderKind;
import dev.conveyor.notifier.service.NotifierMetrics;
import dev.conveyor.notifier.service.NotifierService;
import dev.conveyor.notifier.testing.Harness;
import dev.conveyor.notifier.testing.InjectWireMock;
import dev.conveyor.notifier.testing.Runs;
import dev.conveyor.notifier.testing.WireMockResource;
import dev.conveyor.testkit.kafka.KafkaBrokerResource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kafka.InjectKafkaCompanion;
import io.smallrye.reactive.messaging.kafka.companion.KafkaCompanion;

/**
 * The notifier as deployed: whole runs of CloudEvents over a real broker in, the exact vendor calls out (WireMock
 * shaped like GitHub REST, Slack Web API and JIRA Cloud REST v3), nothing more on a replay, poison dead-lettered.
 */
@QuarkusTest
@QuarkusTestResource(KafkaBrokerResource.class)
@QuarkusTestResource(WireMockResource.class)
class NotifierMessagingIT {

    static final String SHA = "89abcdef0123456789abcdef0123456789abcdef";

    @InjectKafkaCompanion
    KafkaCompanion companion;

    @InjectWireMock
    WireMockServer wiremock;

    @Inject
    NotifierService notifier;

    @Inject
    MeterRegistry registry;

    @TestHTTPResource("/q/health/ready")
    URL health;

    @BeforeEach
    void stubs() {
        companion.registerSerde(ConveyorEvent.class,
                Serdes.serdeFrom(new ConveyorEventSerializer(), new ConveyorEventDeserializer()));
        await().atMost(Duration.ofSeconds(30)).until(this::settled);
        wiremock.resetAll();
        wiremock.stubFor(post(urlPathMatching("/github/repos/acme/shop/statuses/.*"))
                .willReturn(aResponse().withStatus(201).withHeader("Content-Type", "application/json")
                        .withBody("{\"state\":\"pending\"}")));
        wiremock.stubFor(post(urlEqualTo("/github/repos/acme/shop/issues/42/comments"))
                .willReturn(aResponse().withStatus(201).withHeader("Content-Type", "application/json")
                        .withBody("{\"id\":4242}")));
        wiremock.stubFor(patch(urlEqualTo("/github/repos/acme/shop/issues/comments/4242"))
                .willReturn(okJson("{\"id\":4242}")));
        wiremock.stubFor(post(urlEqualTo("/slack/api/chat.postMessage"))
                .willReturn(okJson("{\"ok\":true,\"channel\":\"C0DEPLOY\",\"ts\":\"1700000001.000200\"}")));
        wiremock.stubFor(post(urlEqualTo("/slack/api/chat.update"))
                .willReturn(okJson("{\"ok\":true,\"channel\":\"C0DEPLOY\",\"ts\":\"1700000001.000200\"}")));
        wiremock.stubFor(post(urlPathMatching("/jira/rest/api/3/issue/[A-Z]+-[0-9]+/comment"))
                .willReturn(aResponse().withStatus(201).withHeader("Content-Type", "application/json")
                        .withBody("{\"id\":\"10000\"}")));
        wiremock.stubFor(post(urlPathMatching("/jira/rest/api/3/issue/[A-Z]+-[0-9]+/transitions"))
                .willReturn(aResponse().withStatus(204)));
    }

    @Test
    void readyOnceItsStateTopicIsPrepared() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            HttpResponse<String> ready = http.send(HttpRequest.newBuilder(health.toURI()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(ready.statusCode()).isEqualTo(200);
            assertThat(ready.body()).containsPattern("\"state-topic\"\\s*:\\s*\"prepared\"");
        });
        assertThat(companion.topics().list()).contains(EventConsumer.STATE_TOPIC);
    }

    boolean settled() {
        return Arrays.stream(ProviderKind.values()).allMatch(p -> notifier.backlog(p) == 0);
    }

    double duplicates() {
        Counter c = registry.find(NotifierMetrics.DUPLICATES).counter();
        return c == null ? 0 : c.count();
    }

    /** Produces each event as its stage would (CloudEvents binary mode) and waits until it is handled. */
    void deliverInOrder(List<ConveyorEvent> events) {
        for (ConveyorEvent e : events) {
            companion.produce(String.class, ConveyorEvent.class).fromRecords(record(e))
                    .awaitCompletion(Duration.ofSeconds(30));
            await().atMost(Duration.ofSeconds(30)).until(() -> notifier.handled(Runs.id(e)));
        }
    }

    void replay(List<ConveyorEvent> events) {
        double before = duplicates();
        companion.produce(String.class, ConveyorEvent.class)
                .fromRecords(events.stream().map(NotifierMessagingIT::record).toList())
                .awaitCompletion(Duration.ofSeconds(30));
        await().atMost(Duration.ofSeconds(30)).until(() -> duplicates() >= before + events.size());
    }

    static ProducerRecord<String, ConveyorEvent> record(ConveyorEvent e) {
        CloudEventAttributes ce = CloudEventAttributes.of(e, Stage.GATEWAY);
        RecordHeaders headers = new RecordHeaders();
        headers.add("ce_specversion", bytes(CloudEventAttributes.SPEC_VERSION));
        headers.add("ce_id", bytes(ce.id()));
        headers.add("ce_type", bytes(ce.type()));
        headers.add("ce_source", bytes(ce.source()));
        headers.add("ce_subject", bytes(ce.subject()));
        headers.add("ce_time", bytes(ce.time().toString()));
        headers.add("content-type", bytes(CloudEventAttributes.DATA_CONTENT_TYPE));
        return new ProducerRecord<>(e.eventType().topic(), null, e.run().app(), e, headers);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aWholePullRequestRunMakesExactlyItsCallsOnceEvenWhenReplayed() {
        List<ConveyorEvent> run = Runs.pullRequest("shop", "https://github.com/acme/shop.git", 42, SHA);
        String runUrl = "https://conveyor.example.com/runs/" + run.get(0).run().runId();

        deliverInOrder(run);
        await().atMost(Duration.ofSeconds(30)).until(() -> wiremock.getAllServeEvents().size() >= 15 && settled());

        String status = "POST /github/repos/acme/shop/statuses/" + SHA;
        String update = "PATCH /github/repos/acme/shop/issues/comments/4242";
        List<String> expected = List.of(status, status, "POST /github/repos/acme/shop/issues/42/comments", status,
                status, update, status, status, update, status, update);
        assertThat(Harness.calls(wiremock, "/github")).containsExactlyElementsOf(expected);
        assertThat(Harness.calls(wiremock, "/slack")).containsExactly("POST /slack/api/chat.postMessage",
                "POST /slack/api/chat.update", "POST /slack/api/chat.update", "POST /slack/api/chat.update");
        assertThat(Harness.calls(wiremock, "/")).hasSize(15);
        String[] states = {"success:build", "pending:versioner", "success:versioner", "pending:image-builder",
                "success:image-builder", "pending:manifest-renderer", "success:manifest-renderer"};
        for (String s : states) {
            String[] parts = s.split(":");
            wiremock.verify(1, postRequestedFor(urlEqualTo("/github/repos/acme/shop/statuses/" + SHA))
                    .withHeader("Authorization", equalTo("Bearer " + Harness.GITHUB_TOKEN))
                    .withHeader("X-GitHub-Api-Version", equalTo("2022-11-28"))
                    .withRequestBody(matchingJsonPath("$.state", equalTo(parts[0])))
                    .withRequestBody(matchingJsonPath("$.context", equalTo("conveyor/" + parts[1])))
                    .withRequestBody(matchingJsonPath("$.target_url", equalTo(runUrl))));
        }
        List<String> comments = Harness.requests(wiremock).stream()
                .filter(r -> r.getUrl().contains("/comments")).map(r -> r.getBodyAsString()).toList();
        assertThat(comments.get(comments.size() - 1)).contains("1.3.0-pr.42.89abcde",
                "registry.example.com/shop@" + Runs.IMAGE_DIGEST, "```diff", "+  image: shop@" + Runs.IMAGE_DIGEST,
                "| manifest-renderer | ✅ success |", runUrl);
        wiremock.verify(patchRequestedFor(urlEqualTo("/github/repos/acme/shop/issues/comments/4242"))
                .withRequestBody(matchingJsonPath("$.body")));
        wiremock.verify(1, postRequestedFor(urlEqualTo("/slack/api/chat.postMessage"))
                .withHeader("Authorization", equalTo("Bearer " + Harness.SLACK_TOKEN))
                .withRequestBody(matchingJsonPath("$.channel", equalTo("#shop")))
                .withRequestBody(matchingJsonPath("$.blocks[0].text.type", equalTo("mrkdwn"))));

        int before = wiremock.getAllServeEvents().size();
        replay(run);
        await().atMost(Duration.ofSeconds(10)).until(this::settled);
        assertThat(wiremock.getAllServeEvents()).hasSize(before);
    }

    @Test
    void aWholeDeliveryRunUpdatesSlackAndCommentsAndTransitionsItsJiraIssuesOnTheSync() {
        List<ConveyorEvent> run = Runs.delivery("cart", "https://github.com/acme/cart.git", SHA);
        String runUrl = "https://conveyor.example.com/runs/" + run.get(0).run().runId();

        deliverInOrder(run);
        await().atMost(Duration.ofSeconds(30)).until(() -> wiremock.getAllServeEvents().size() >= 12 && settled());

        assertThat(Harness.calls(wiremock, "/github")).isEmpty();
        List<String> slack = new ArrayList<>(List.of("POST /slack/api/chat.postMessage"));
        slack.addAll(Collections.nCopies(7, "POST /slack/api/chat.update"));
        assertThat(Harness.calls(wiremock, "/slack")).containsExactlyElementsOf(slack);
        assertThat(Harness.calls(wiremock, "/jira")).containsExactly("POST /jira/rest/api/3/issue/SHOP-7/comment",
                "POST /jira/rest/api/3/issue/SHOP-7/transitions", "POST /jira/rest/api/3/issue/SHOP-8/comment",
                "POST /jira/rest/api/3/issue/SHOP-8/transitions");
        assertThat(Harness.calls(wiremock, "/")).hasSize(12);
        String basic = "Basic " + Base64.getEncoder()
                .encodeToString(("bot@example.com:" + Harness.JIRA_TOKEN).getBytes(StandardCharsets.UTF_8));
        wiremock.verify(1, postRequestedFor(urlEqualTo("/jira/rest/api/3/issue/SHOP-7/comment"))
                .withHeader("Authorization", equalTo(basic))
                .withRequestBody(matchingJsonPath("$.body.type", equalTo("doc")))
                .withRequestBody(matchingJsonPath("$.body.version", equalTo("1")))
                .withRequestBody(matchingJsonPath("$.body.content[0].content[0].text",
                        equalTo("cart 2.4.0 deployed to production")))
                .withRequestBody(matchingJsonPath("$.body.content[3].content[1].marks[0].attrs.href",
                        equalTo(runUrl))));
        wiremock.verify(1, postRequestedFor(urlEqualTo("/jira/rest/api/3/issue/SHOP-8/transitions"))
                .withHeader("Authorization", equalTo(basic))
                .withRequestBody(equalToJson("{\"transition\":{\"id\":\"31\"}}")));
        wiremock.verify(7, postRequestedFor(urlEqualTo("/slack/api/chat.update"))
                .withRequestBody(matchingJsonPath("$.channel", equalTo("C0DEPLOY")))
                .withRequestBody(matchingJsonPath("$.ts", equalTo("1700000001.000200"))));
        String last = Harness.requests(wiremock).stream().filter(r -> r.getUrl().endsWith("chat.update"))
                .reduce((a, b) -> b).orElseThrow().getBodyAsString();
        assertThat(last).contains("Deployed to *production*", "cart* 2.4.0 deployed");

        int before = wiremock.getAllServeEvents().size();
        replay(run);
        await().atMost(Duration.ofSeconds(10)).until(this::settled);
        assertThat(wiremock.getAllServeEvents()).hasSize(before);
    }

    @Test
    void aDeliveryRunWhoseSyncAndHealthArriveFirstStillCommentsOnJiraOnceAndEndsDeployed() {
        List<ConveyorEvent> run = Runs.delivery("cart", "https://github.com/acme/cart.git",
                "76543210fedcba9876543210fedcba9876543210");
        // as after a restart of the notifier: the sync and health topics' backlog is read before the others
        deliverInOrder(run.subList(6, 8));
        await().atMost(Duration.ofSeconds(30)).until(() -> wiremock.getAllServeEvents().size() >= 2 && settled());
        assertThat(Harness.calls(wiremock, "/jira")).isEmpty();

        deliverInOrder(run.subList(0, 6));
        await().atMost(Duration.ofSeconds(30)).until(() -> wiremock.getAllServeEvents().size() >= 12 && settled());

        assertThat(Harness.calls(wiremock, "/jira")).containsExactly("POST /jira/rest/api/3/issue/SHOP-7/comment",
                "POST /jira/rest/api/3/issue/SHOP-7/transitions", "POST /jira/rest/api/3/issue/SHOP-8/comment",
                "POST /jira/rest/api/3/issue/SHOP-8/transitions");
        wiremock.verify(1, postRequestedFor(urlEqualTo("/jira/rest/api/3/issue/SHOP-8/comment"))
                .withRequestBody(matchingJsonPath("$.body.content[0].content[0].text",
                        equalTo("cart 2.4.0 deployed to production"))));
        List<String> slack = new ArrayList<>(List.of("POST /slack/api/chat.postMessage"));
        slack.addAll(Collections.nCopies(7, "POST /slack/api/chat.update"));
        assertThat(Harness.calls(wiremock, "/slack")).containsExactlyElementsOf(slack);
        assertThat(Harness.calls(wiremock, "/")).hasSize(12);
        String last = Harness.requests(wiremock).stream().filter(r -> r.getUrl().endsWith("chat.update"))
                .reduce((a, b) -> b).orElseThrow().getBodyAsString();
        assertThat(last).contains("Deployed to *production*", "cart* 2.4.0 deployed");

        int before = wiremock.getAllServeEvents().size();
        replay(run);
        await().atMost(Duration.ofSeconds(10)).until(this::settled);
        assertThat(wiremock.getAllServeEvents()).hasSize(before);
    }

    @Test
    void poisonOnEveryTopicIsDeadLetteredToItsOwnTopicWithItsReason() {
        List<String> topics = Arrays.stream(EventType.values()).map(EventType::topic).toList();
        assertThat(topics).hasSize(11);
        for (String topic : topics) {
            companion.produce(String.class, byte[].class).fromRecords(
                    new ProducerRecord<>(topic, null, "shop", "{\"not\":\"an event\"}".getBytes(StandardCharsets.UTF_8),
                            new RecordHeaders()))
                    .awaitCompletion(Duration.ofSeconds(30));
        }

        for (String topic : topics) {
            ConsumerRecord<String, byte[]> dead = companion.consume(String.class, byte[].class)
                    .fromTopics(Topics.deadLetter(topic, Stage.NOTIFIER), 1)
                    .awaitCompletion(Duration.ofSeconds(60)).getFirstRecord();
            assertThat(dead.key()).isEqualTo("shop");
            assertThat(new String(dead.value(), StandardCharsets.UTF_8)).isEqualTo("{\"not\":\"an event\"}");
            assertThat(new String(dead.headers().lastHeader("dead-letter-reason").value(), StandardCharsets.UTF_8))
                    .as(topic).contains("missing required fields run");
        }
    }
}
