package dev.conveyor.notifier.service;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;

import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.TestSummary;
import dev.conveyor.notifier.domain.ProviderKind;
import dev.conveyor.notifier.testing.Harness;
import dev.conveyor.notifier.testing.Runs;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The hook's test and lint counts, which the PR comment shows on its Checks line, are in the Slack message and in the
 * JIRA deployment comment too, worded the same way.
 */
class ChecksInMessagesTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static WireMockServer wiremock;

    @TempDir
    Path dir;
    NotifierService service;

    @BeforeAll
    static void startWireMock() {
        wiremock = new WireMockServer(options().dynamicPort());
        wiremock.start();
    }

    @AfterAll
    static void stopWireMock() {
        wiremock.stop();
    }

    @BeforeEach
    void stubs() {
        wiremock.resetAll();
        wiremock.stubFor(post(urlEqualTo("/slack/api/chat.postMessage"))
                .willReturn(okJson("{\"ok\":true,\"channel\":\"C0SHOP\",\"ts\":\"1700000000.000100\"}")));
        wiremock.stubFor(post(urlEqualTo("/slack/api/chat.update"))
                .willReturn(okJson("{\"ok\":true,\"channel\":\"C0SHOP\",\"ts\":\"1700000000.000100\"}")));
        wiremock.stubFor(post(urlPathMatching("/jira/rest/api/3/issue/SHOP-[0-9]+/comment")).willReturn(aResponse()
                .withStatus(201).withHeader("Content-Type", "application/json").withBody("{\"id\":\"10042\"}")));
        wiremock.stubFor(post(urlPathMatching("/github/.*")).willReturn(aResponse().withStatus(201)
                .withHeader("Content-Type", "application/json").withBody("{\"id\":9001}")));
    }

    @AfterEach
    void stop() {
        Harness.closeQuietly(service);
    }

    void deliver(List<ConveyorEvent> run) {
        service = Harness.start(Harness.settings(wiremock, dir.resolve("data"), Map.of()), new SimpleMeterRegistry());
        run.forEach(e -> service.accept(e, Runs.id(e)));
        await().atMost(Duration.ofSeconds(20))
                .until(() -> Arrays.stream(ProviderKind.values()).allMatch(p -> service.backlog(p) == 0));
    }

    @Test
    void theSlackMessageShowsTheHooksTestAndLintCounts() throws Exception {
        deliver(Runs.pullRequest("shop", "https://github.com/acme/shop.git", 42,
                "0123456789abcdef0123456789abcdef01234567"));

        List<String> texts = new ArrayList<>();
        for (var r : Harness.requests(wiremock)) {
            if (r.getUrl().startsWith("/slack/api/chat.")) {
                texts.add(JSON.readTree(r.getBodyAsString()).path("text").asText());
            }
        }
        assertThat(texts).hasSize(4).allSatisfy(text -> assertThat(text)
                .contains("\nChecks: 9 tests passed, 0 failed, 1 skipped; lint: 0 errors, 7 warnings\n"));
    }

    @Test
    void theJiraDeploymentCommentShowsTheHooksTestAndLintCounts() throws Exception {
        List<ConveyorEvent> run = new ArrayList<>(Runs.delivery("cart", "https://github.com/acme/cart.git",
                "76543210fedcba9876543210fedcba9876543210"));
        BuildSucceeded b = (BuildSucceeded) run.get(0);
        run.set(0, new BuildSucceeded(b.run(), b.occurredAt(), b.causationId(), b.buildUrl(), b.artifact(),
                new TestSummary(120, 2, 3, 1, 4), b.pullRequestTitle()));
        deliver(run);

        List<JsonNode> comments = new ArrayList<>();
        for (var r : Harness.requests(wiremock)) {
            if (r.getUrl().startsWith("/jira/")) {
                comments.add(JSON.readTree(r.getBodyAsString()).path("body"));
            }
        }
        assertThat(comments).hasSize(2).allSatisfy(body -> assertThat(body.toString())
                .contains("Checks: 120 tests passed, 2 failed, 3 skipped; lint: 1 errors, 4 warnings"));
        // and so does every Slack message of the run
        assertThat(Harness.requests(wiremock).stream().filter(r -> r.getUrl().startsWith("/slack/"))
                .map(r -> r.getBodyAsString())).allMatch(body -> body.contains("Checks: 120 tests passed"));
    }
}
