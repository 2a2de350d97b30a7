package dev.conveyor.notifier.service;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.patch;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.notifier.domain.ProviderKind;
import dev.conveyor.notifier.testing.Harness;
import dev.conveyor.notifier.testing.Runs;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** The service against WireMock stubs shaped like the vendors' APIs: exact calls, in place updates, restarts. */
class NotifierServiceTest {

    static final String SHA = "0123456789abcdef0123456789abcdef01234567";
    static final String GL_PROJECT = "/gitlab/api/v4/projects/group%2Fshop";
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
        wiremock.stubFor(post(urlPathMatching("/github/repos/acme/shop/statuses/.*"))
                .willReturn(aResponse().withStatus(201).withHeader("Content-Type", "application/json")
                        .withBody("{\"state\":\"success\"}")));
        wiremock.stubFor(post(urlEqualTo("/github/repos/acme/shop/issues/42/comments"))
                .willReturn(aResponse().withStatus(201).withHeader("Content-Type", "application/json")
                        .withBody("{\"id\":9001,\"body\":\"...\"}")));
        wiremock.stubFor(patch(urlEqualTo("/github/repos/acme/shop/issues/comments/9001"))
                .willReturn(okJson("{\"id\":9001}")));
        wiremock.stubFor(post(urlPathMatching("/gitlab/api/v4/projects/group%2Fshop/statuses/.*"))
                .willReturn(aResponse().withStatus(201).withHeader("Content-Type", "application/json")
                        .withBody("{\"id\":1,\"status\":\"success\"}")));
        wiremock.stubFor(post(urlEqualTo(GL_PROJECT + "/merge_requests/5/notes"))
                .willReturn(aResponse().withStatus(201).withHeader("Content-Type", "application/json")
                        .withBody("{\"id\":77,\"body\":\"...\"}")));
        wiremock.stubFor(put(urlEqualTo(GL_PROJECT + "/merge_requests/5/notes/77")).willReturn(okJson("{\"id\":77}")));
        wiremock.stubFor(post(urlEqualTo("/slack/api/chat.postMessage"))
                .willReturn(okJson("{\"ok\":true,\"channel\":\"C0SHOP\",\"ts\":\"1700000000.000100\"}")));
        wiremock.stubFor(post(urlEqualTo("/slack/api/chat.update"))
                .willReturn(okJson("{\"ok\":true,\"channel\":\"C0SHOP\",\"ts\":\"1700000000.000100\"}")));
        wiremock.stubFor(post(urlPathMatching("/hooks/.*")).willReturn(aResponse().withStatus(200).withBody("ok")));
    }

    @AfterEach
    void stop() {
        Harness.closeQuietly(service);
    }

    NotifierService start(Map<String, String> extra) {
        service = Harness.start(Harness.settings(wiremock, dir.resolve("data"), extra), new SimpleMeterRegistry());
        return service;
    }

    void settle(int expectedCalls) {
        await().atMost(Duration.ofSeconds(20)).until(() -> wiremock.getAllServeEvents().size() >= expectedCalls
                && java.util.Arrays.stream(ProviderKind.values()).allMatch(p -> service.backlog(p) == 0));
    }

    @Test
    void aGitLabMergeRequestGetsStatusesAndOneNoteEditedInPlaceAcrossARestart() {
        Map<String, String> gitlabOnly = Map.of("conveyor.notifier.slack.token", "",
                "conveyor.notifier.jira.base-url", "");
        List<ConveyorEvent> run = Runs.pullRequest("shop", "https://gitlab.example.com/group/shop.git", 5, SHA);
        String runId = run.get(0).run().runId();
        start(gitlabOnly);
        assertThat(service.accept(run.get(0), Runs.id(run.get(0)))).isTrue();
        assertThat(service.accept(run.get(1), Runs.id(run.get(1)))).isTrue();
        settle(6);

        service.close();
        start(gitlabOnly);
        // the same records delivered again after the restart: already handled, no call
        assertThat(service.accept(run.get(0), Runs.id(run.get(0)))).isFalse();
        assertThat(service.accept(run.get(1), Runs.id(run.get(1)))).isFalse();
        assertThat(service.accept(run.get(2), Runs.id(run.get(2)))).isTrue();
        settle(9);

        String statuses = "POST " + GL_PROJECT + "/statuses/" + SHA;
        assertThat(Harness.calls(wiremock, "/")).containsExactly(statuses, statuses,
                "POST " + GL_PROJECT + "/merge_requests/5/notes", statuses, statuses,
                "PUT " + GL_PROJECT + "/merge_requests/5/notes/77", statuses, statuses,
                "PUT " + GL_PROJECT + "/merge_requests/5/notes/77");
        List<LoggedRequest> requests = Harness.requests(wiremock);
        assertThat(requests).allSatisfy(r -> assertThat(r.getHeader("PRIVATE-TOKEN")).isEqualTo(
                Harness.GITLAB_TOKEN));
        assertThat(requests.get(0).getBodyAsString()).satisfies(body -> assertThat(body).isNotBlank());
        wiremock.verify(1, postRequestedFor(urlEqualTo(GL_PROJECT + "/statuses/" + SHA)).withRequestBody(
                equalToJson("{\"state\":\"success\",\"name\":\"conveyor/build\",\"target_url\":"
                        + "\"https://conveyor.example.com/runs/" + runId
                        + "\",\"description\":\"shop: build success\"}")));
        wiremock.verify(1, postRequestedFor(urlEqualTo(GL_PROJECT + "/statuses/" + SHA)).withRequestBody(
                equalToJson("{\"state\":\"pending\",\"name\":\"conveyor/manifest-renderer\",\"target_url\":"
                        + "\"https://conveyor.example.com/runs/" + runId + "\",\"description\":\"shop "
                        + "1.3.0-pr.5.0123456: manifest-renderer pending\"}")));
        String lastNote = requests.get(8).getBodyAsString();
        assertThat(lastNote).contains("<!-- conveyor:run " + runId + " -->", "registry.example.com/shop@"
                + Runs.IMAGE_DIGEST, "| image-builder | ✅ success |",
                "**Checks** 9 tests passed, 0 failed, 1 skipped; lint: 0 errors, 7 warnings\\n\\n**Image**");
    }

    @Test
    void aFailureUpdatesTheStatusTheCommentAndTheSlackMessageAndIsPostedInItsThread() {
        List<ConveyorEvent> run = Runs.pullRequest("shop", "https://github.com/acme/shop.git", 42, SHA);
        start(Map.of("conveyor.notifier.jira.base-url", ""));
        service.accept(run.get(0), Runs.id(run.get(0)));
        settle(4);
        var failed = Runs.failed(run.get(0), Stage.VERSIONER, "UNKNOWN_COMMIT",
                "commit 0123456 is not in https://github.com/acme/shop.git");
        service.accept(failed, Runs.id(failed));
        settle(8);

        assertThat(Harness.calls(wiremock, "/github")).containsExactly("POST /github/repos/acme/shop/statuses/" + SHA,
                "POST /github/repos/acme/shop/statuses/" + SHA, "POST /github/repos/acme/shop/issues/42/comments",
                "POST /github/repos/acme/shop/statuses/" + SHA,
                "PATCH /github/repos/acme/shop/issues/comments/9001");
        assertThat(Harness.calls(wiremock, "/slack")).containsExactly("POST /slack/api/chat.postMessage",
                "POST /slack/api/chat.update", "POST /slack/api/chat.postMessage");
        wiremock.verify(1, postRequestedFor(urlEqualTo("/github/repos/acme/shop/statuses/" + SHA))
                .withHeader("Authorization", equalTo("Bearer " + Harness.GITHUB_TOKEN))
                .withHeader("Accept", equalTo("application/vnd.github+json"))
                .withRequestBody(equalToJson("{\"state\":\"failure\",\"context\":\"conveyor/versioner\","
                        + "\"target_url\":\"https://conveyor.example.com/runs/" + run.get(0).run().runId()
                        + "\",\"description\":\"shop: versioner failure\"}")));
        wiremock.verify(1, postRequestedFor(urlEqualTo("/slack/api/chat.postMessage"))
                .withHeader("Authorization", equalTo("Bearer " + Harness.SLACK_TOKEN))
                .withRequestBody(matchingJsonPath("$.channel", equalTo("#shop")))
                .withRequestBody(matchingJsonPath("$.blocks[0].type", equalTo("section"))));
        wiremock.verify(1, postRequestedFor(urlEqualTo("/slack/api/chat.update"))
                .withRequestBody(matchingJsonPath("$.channel", equalTo("C0SHOP")))
                .withRequestBody(matchingJsonPath("$.ts", equalTo("1700000000.000100"))));
        LoggedRequest reply = Harness.requests(wiremock).stream()
                .filter(r -> r.getBodyAsString().contains("thread_ts")).findFirst().orElseThrow();
        assertThat(reply.getBodyAsString()).contains("\"channel\":\"C0SHOP\"", "\"thread_ts\":\"1700000000.000100\"",
                "UNKNOWN_COMMIT");
        LoggedRequest comment = Harness.requests(wiremock).stream()
                .filter(r -> r.getMethod().getName().equals("PATCH")).findFirst().orElseThrow();
        assertThat(comment.getBodyAsString()).contains("UNKNOWN_COMMIT", "❌");
    }

    @Test
    void withoutABotTokenAnIncomingWebhookGetsOneMessageWhenTheRunEnds() {
        String hook = wiremock.baseUrl() + "/hooks/T000/B000/s3cr3tW3bh00k";
        start(Map.of("conveyor.notifier.slack.token", "", "conveyor.notifier.slack.webhook-url", hook,
                "conveyor.notifier.github.token", "", "conveyor.notifier.jira.base-url", ""));
        List<ConveyorEvent> run = Runs.pullRequest("shop", "https://github.com/acme/shop.git", 42, SHA);
        run.forEach(e -> service.accept(e, Runs.id(e)));
        settle(1);

        assertThat(Harness.calls(wiremock, "/")).containsExactly("POST /hooks/T000/B000/s3cr3tW3bh00k");
        assertThat(Harness.requests(wiremock).get(0).getBodyAsString()).contains("succeeded", "PR #42",
                "\"blocks\"");
    }

    @Test
    void aBrokenOverrideFallsBackToTheBuiltInTemplateAndIsCounted() throws IOException {
        Path templates = Files.createDirectories(dir.resolve("templates"));
        Files.writeString(templates.resolve("status.txt"), "{run.noSuchProperty} {stage}");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        service = Harness.start(Harness.settings(wiremock, dir.resolve("data"),
                Map.of("conveyor.notifier.templates.dir", templates.toString(), "conveyor.notifier.slack.token", "",
                        "conveyor.notifier.jira.base-url", "")),
                registry);
        List<ConveyorEvent> run = Runs.pullRequest("shop", "https://github.com/acme/shop.git", 42, SHA);
        service.accept(run.get(0), Runs.id(run.get(0)));
        settle(3);

        wiremock.verify(1, postRequestedFor(urlEqualTo("/github/repos/acme/shop/statuses/" + SHA))
                .withRequestBody(matchingJsonPath("$.description", equalTo("shop: build success"))));
        assertThat(registry.find("conveyor.stage.failures").tag("reason", "TEMPLATE_ERROR").counter().count())
                .isEqualTo(2.0);
    }

    @Test
    void aDeletedPullRequestCommentIsCreatedAgain() {
        wiremock.stubFor(patch(urlEqualTo("/github/repos/acme/shop/issues/comments/9001"))
                .willReturn(aResponse().withStatus(404).withHeader("Content-Type", "application/json")
                        .withBody("{\"message\":\"Not Found\"}")));
        start(Map.of("conveyor.notifier.slack.token", "", "conveyor.notifier.jira.base-url", ""));
        List<ConveyorEvent> run = Runs.pullRequest("shop", "https://github.com/acme/shop.git", 42, SHA);
        service.accept(run.get(0), Runs.id(run.get(0)));
        service.accept(run.get(1), Runs.id(run.get(1)));
        settle(7);

        assertThat(Harness.calls(wiremock, "/github").stream().filter(c -> c.contains("comments")))
                .containsExactly("POST /github/repos/acme/shop/issues/42/comments",
                        "PATCH /github/repos/acme/shop/issues/comments/9001",
                        "POST /github/repos/acme/shop/issues/42/comments");
    }

    @Test
    void aTemplateOverrideReplacesTheBuiltInOne() throws IOException {
        Path templates = Files.createDirectories(dir.resolve("templates"));
        Files.writeString(templates.resolve("status.txt"), "Conveyor says {stage} is {state}");
        start(Map.of("conveyor.notifier.templates.dir", templates.toString(), "conveyor.notifier.slack.token", "",
                "conveyor.notifier.jira.base-url", ""));
        List<ConveyorEvent> run = Runs.pullRequest("shop", "https://github.com/acme/shop.git", 42, SHA);
        service.accept(run.get(0), Runs.id(run.get(0)));
        settle(3);

        wiremock.verify(1, postRequestedFor(urlEqualTo("/github/repos/acme/shop/statuses/" + SHA))
                .withRequestBody(matchingJsonPath("$.description", equalTo("Conveyor says build is success"))));
    }
}
