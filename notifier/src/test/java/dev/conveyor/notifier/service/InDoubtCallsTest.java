package dev.conveyor.notifier.service;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.patch;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.MappingBuilder;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.notifier.client.ProviderClient;
import dev.conveyor.notifier.domain.ProviderKind;
import dev.conveyor.notifier.testing.Harness;
import dev.conveyor.notifier.testing.Runs;
import dev.conveyor.testkit.stubs.ProviderStubs;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * A create call (JIRA comment, Slack message, PR comment) that may have reached the provider before the notifier died
 * or lost the answer: the provider is asked first, by the call's marker, and the call is made only when it is not
 * there. The stubs answer the list calls from what was posted ({@link ProviderStubs}); a "crash" is the service
 * closed while the call is in flight (the provider has the request, the journal has no "done").
 */
class InDoubtCallsTest {

    static final String SHA = "0123456789abcdef0123456789abcdef01234567";
    static final String JSON = "application/json";
    static final ProviderStubs LOOKUPS = new ProviderStubs();
    static WireMockServer wiremock;

    @TempDir
    Path dir;
    NotifierService service;
    Blackhole blackhole;

    @BeforeAll
    static void startWireMock() {
        wiremock = new WireMockServer(options().dynamicPort().extensions(LOOKUPS));
        LOOKUPS.attach(wiremock);
        wiremock.start();
    }

    @AfterAll
    static void stopWireMock() {
        wiremock.stop();
    }

    @BeforeEach
    void stubs() {
        wiremock.resetAll();
        ProviderStubs.stubLookups(wiremock);
        wiremock.stubFor(jiraComment(0));
        wiremock.stubFor(slackPost(0));
        wiremock.stubFor(post(urlEqualTo("/slack/api/chat.update"))
                .willReturn(okJson("{\"ok\":true,\"channel\":\"C0SHOP\",\"ts\":\"1700000000.000100\"}")));
        // the channels the bot can see, posted to or not
        wiremock.stubFor(get(urlPathEqualTo("/slack/api/conversations.list")).atPriority(1)
                .willReturn(okJson("{\"ok\":true,\"channels\":[{\"id\":\"C0SHOP\",\"name\":\"shop\"}]}")));
        wiremock.stubFor(post(urlPathMatching("/github/repos/acme/shop/statuses/.*"))
                .willReturn(aResponse().withStatus(201).withHeader("Content-Type", JSON).withBody("{}")));
        wiremock.stubFor(patch(urlPathMatching("/github/repos/acme/shop/issues/comments/[0-9]+"))
                .willReturn(okJson("{\"id\":9001}")));
    }

    @AfterEach
    void stop() throws IOException {
        Harness.closeQuietly(service);
        if (blackhole != null) {
            blackhole.close();
        }
    }

    static MappingBuilder jiraComment(int delayMillis) {
        return post(urlPathMatching("/jira/rest/api/3/issue/SHOP-[0-9]+/comment"))
                .willReturn(aResponse().withStatus(201).withHeader("Content-Type", JSON)
                        .withBody("{\"id\":\"10042\"}").withFixedDelay(delayMillis));
    }

    static MappingBuilder slackPost(int delayMillis) {
        return post(urlEqualTo("/slack/api/chat.postMessage"))
                .willReturn(okJson("{\"ok\":true,\"channel\":\"C0SHOP\",\"ts\":\"1700000000.000100\"}")
                        .withFixedDelay(delayMillis));
    }

    void start(Map<String, String> extra) {
        service = Harness.start(Harness.settings(wiremock, dir.resolve("data"), extra), new SimpleMeterRegistry());
    }

    void settle() {
        await().atMost(Duration.ofSeconds(20))
                .until(() -> Arrays.stream(ProviderKind.values()).allMatch(p -> service.backlog(p) == 0));
    }

    /** The service dies (its workers are stopped mid-call) once {@code prefix} received a request. */
    void crashOnceReceived(String prefix) {
        await().atMost(Duration.ofSeconds(20)).until(() -> !Harness.calls(wiremock, prefix).isEmpty());
        service.close();
        service = null;
    }

    /** The stored per-run reference, read from the journal the way a restart reads it. */
    String ref(String runId, String key) {
        try (StateStore store = StateStore.open(dir.resolve("data"), Duration.ofDays(14), Clock.systemUTC())) {
            return store.ref(runId, key).orElse(null);
        }
    }

    static final Map<String, String> JIRA_ONLY = Map.of("conveyor.notifier.slack.token", "",
            "conveyor.notifier.github.token", "");

    @Test
    void aJiraCommentMadeJustBeforeACrashIsFoundAndNotMadeAgain() {
        List<ConveyorEvent> run = Runs.delivery("shop", "https://github.com/acme/shop.git", SHA);
        String runId = run.get(0).run().runId();
        wiremock.stubFor(jiraComment(3_000));
        start(JIRA_ONLY);
        run.forEach(e -> service.accept(e, Runs.id(e)));
        crashOnceReceived("/jira");

        wiremock.stubFor(jiraComment(0));
        start(JIRA_ONLY);
        settle();

        // SHOP-7's comment was in doubt: looked up, found, not posted again; SHOP-8's was never started: no lookup
        assertThat(Harness.calls(wiremock, "/jira")).containsExactly(
                "POST /jira/rest/api/3/issue/SHOP-7/comment",
                "GET /jira/rest/api/3/issue/SHOP-7/comment?orderBy=-created&maxResults=50",
                "POST /jira/rest/api/3/issue/SHOP-8/comment");
        wiremock.verify(1, postRequestedFor(urlEqualTo("/jira/rest/api/3/issue/SHOP-7/comment"))
                .withRequestBody(matchingJsonPath("$.body.content[-1].content[0].text",
                        com.github.tomakehurst.wiremock.client.WireMock.containing("Conveyor run " + runId))));
        service.close();
        service = null;
        assertThat(ref(runId, ProviderClient.JIRA_COMMENT + "SHOP-7")).isEqualTo("10042");
    }

    @Test
    void aJiraCommentStartedButNeverReceivedIsMadeOnceAfterTheRestart() throws IOException {
        List<ConveyorEvent> run = Runs.delivery("shop", "https://github.com/acme/shop.git", SHA);
        blackhole = new Blackhole();
        Map<String, String> unreachable = new HashMap<>(JIRA_ONLY);
        unreachable.put("conveyor.notifier.jira.base-url", blackhole.url());
        start(unreachable);
        run.forEach(e -> service.accept(e, Runs.id(e)));
        await().atMost(Duration.ofSeconds(20)).until(() -> blackhole.accepted() > 0);
        service.close();
        service = null;

        start(JIRA_ONLY);
        settle();

        assertThat(Harness.calls(wiremock, "/jira")).containsExactly(
                "GET /jira/rest/api/3/issue/SHOP-7/comment?orderBy=-created&maxResults=50",
                "POST /jira/rest/api/3/issue/SHOP-7/comment", "POST /jira/rest/api/3/issue/SHOP-8/comment");
    }

    static final Map<String, String> SLACK_ONLY = Map.of("conveyor.notifier.jira.base-url", "",
            "conveyor.notifier.github.token", "");

    @Test
    void aSlackMessagePostedJustBeforeACrashIsFoundAndUpdatedNotPostedAgain() {
        List<ConveyorEvent> run = Runs.pullRequest("shop", "https://github.com/acme/shop.git", 42, SHA);
        String runId = run.get(0).run().runId();
        wiremock.stubFor(slackPost(3_000));
        start(SLACK_ONLY);
        service.accept(run.get(0), Runs.id(run.get(0)));
        service.accept(run.get(1), Runs.id(run.get(1)));
        crashOnceReceived("/slack");

        wiremock.stubFor(slackPost(0));
        start(SLACK_ONLY);
        settle();

        List<String> calls = Harness.calls(wiremock, "/slack");
        assertThat(calls).filteredOn(c -> c.startsWith("POST /slack/api/chat.postMessage")).hasSize(1);
        assertThat(calls).first().isEqualTo("POST /slack/api/chat.postMessage");
        assertThat(calls.get(1)).isEqualTo("GET /slack/api/conversations.list?exclude_archived=true"
                + "&types=public_channel,private_channel&limit=1000");
        assertThat(calls.get(2)).startsWith("GET /slack/api/conversations.history?channel=C0SHOP&oldest=")
                .endsWith("&include_all_metadata=true&limit=200");
        assertThat(calls.subList(3, calls.size())).containsOnly("POST /slack/api/chat.update");
        wiremock.verify(1, postRequestedFor(urlEqualTo("/slack/api/chat.postMessage"))
                .withRequestBody(matchingJsonPath("$.metadata.event_type",
                        com.github.tomakehurst.wiremock.client.WireMock.equalTo("conveyor_run")))
                .withRequestBody(matchingJsonPath("$.metadata.event_payload.run_id",
                        com.github.tomakehurst.wiremock.client.WireMock.equalTo(runId))));
        wiremock.verify(postRequestedFor(urlEqualTo("/slack/api/chat.update"))
                .withRequestBody(matchingJsonPath("$.channel",
                        com.github.tomakehurst.wiremock.client.WireMock.equalTo("C0SHOP")))
                .withRequestBody(matchingJsonPath("$.ts",
                        com.github.tomakehurst.wiremock.client.WireMock.equalTo("1700000000.000100"))));
        service.close();
        service = null;
        assertThat(ref(runId, ProviderClient.SLACK_TS)).isEqualTo("1700000000.000100");
        assertThat(ref(runId, ProviderClient.SLACK_CHANNEL)).isEqualTo("C0SHOP");
    }

    @Test
    void aSlackMessageStartedButNeverReceivedIsPostedOnceAfterTheRestart() throws IOException {
        List<ConveyorEvent> run = Runs.pullRequest("shop", "https://github.com/acme/shop.git", 42, SHA);
        blackhole = new Blackhole();
        Map<String, String> unreachable = new HashMap<>(SLACK_ONLY);
        unreachable.put("conveyor.notifier.slack.api-url", blackhole.url());
        start(unreachable);
        service.accept(run.get(0), Runs.id(run.get(0)));
        await().atMost(Duration.ofSeconds(20)).until(() -> blackhole.accepted() > 0);
        service.close();
        service = null;

        start(SLACK_ONLY);
        settle();

        List<String> calls = Harness.calls(wiremock, "/slack");
        assertThat(calls).hasSize(3);
        assertThat(calls.get(0)).startsWith("GET /slack/api/conversations.list");
        assertThat(calls.get(1)).startsWith("GET /slack/api/conversations.history?channel=C0SHOP");
        assertThat(calls.get(2)).isEqualTo("POST /slack/api/chat.postMessage");
    }

    @Test
    void aPullRequestCommentWhoseAnswerTimedOutIsFoundNotPostedTwice() {
        // the provider makes the comment but answers after the request timeout; the retry must not post it again
        wiremock.stubFor(post(urlEqualTo("/github/repos/acme/shop/issues/42/comments")).inScenario("slow")
                .whenScenarioStateIs(STARTED)
                .willReturn(aResponse().withStatus(201).withHeader("Content-Type", JSON).withBody("{\"id\":9001}")
                        .withFixedDelay(2_000))
                .willSetStateTo("fast"));
        wiremock.stubFor(post(urlEqualTo("/github/repos/acme/shop/issues/42/comments")).inScenario("slow")
                .whenScenarioStateIs("fast").willReturn(aResponse().withStatus(201)
                        .withHeader("Content-Type", JSON).withBody("{\"id\":9002}")));
        List<ConveyorEvent> run = Runs.pullRequest("shop", "https://github.com/acme/shop.git", 42, SHA);
        start(Map.of("conveyor.notifier.jira.base-url", "", "conveyor.notifier.slack.token", "",
                "conveyor.notifier.retry.request-timeout", "500ms"));
        service.accept(run.get(0), Runs.id(run.get(0)));
        service.accept(run.get(1), Runs.id(run.get(1)));
        await().atMost(Duration.ofSeconds(20)).until(() -> Harness.calls(wiremock, "/github").stream()
                .anyMatch(c -> c.startsWith("PATCH")));
        settle();

        List<String> comments = Harness.calls(wiremock, "/github").stream().filter(c -> c.contains("comments"))
                .toList();
        assertThat(comments).hasSize(3);
        assertThat(comments.get(0)).isEqualTo("POST /github/repos/acme/shop/issues/42/comments");
        assertThat(comments.get(1)).startsWith("GET /github/repos/acme/shop/issues/42/comments?since=")
                .endsWith("&per_page=100&page=1");
        assertThat(comments.get(2)).isEqualTo("PATCH /github/repos/acme/shop/issues/comments/9001");
    }

    @Test
    void aMergeRequestNoteWhoseAnswerTimedOutIsFoundNotPostedTwice() {
        String notes = "/gitlab/api/v4/projects/group%2Fshop/merge_requests/5/notes";
        wiremock.stubFor(post(urlPathMatching("/gitlab/api/v4/projects/group%2Fshop/statuses/.*"))
                .willReturn(aResponse().withStatus(201).withHeader("Content-Type", JSON).withBody("{}")));
        wiremock.stubFor(post(urlEqualTo(notes)).inScenario("slow").whenScenarioStateIs(STARTED)
                .willReturn(aResponse().withStatus(201).withHeader("Content-Type", JSON).withBody("{\"id\":77}")
                        .withFixedDelay(2_000))
                .willSetStateTo("fast"));
        wiremock.stubFor(post(urlEqualTo(notes)).inScenario("slow").whenScenarioStateIs("fast")
                .willReturn(aResponse().withStatus(201).withHeader("Content-Type", JSON).withBody("{\"id\":78}")));
        wiremock.stubFor(com.github.tomakehurst.wiremock.client.WireMock.put(urlEqualTo(notes + "/77"))
                .willReturn(okJson("{\"id\":77}")));
        List<ConveyorEvent> run = Runs.pullRequest("shop", "https://gitlab.example.com/group/shop.git", 5, SHA);
        start(Map.of("conveyor.notifier.jira.base-url", "", "conveyor.notifier.slack.token", "",
                "conveyor.notifier.retry.request-timeout", "500ms"));
        service.accept(run.get(0), Runs.id(run.get(0)));
        service.accept(run.get(1), Runs.id(run.get(1)));
        await().atMost(Duration.ofSeconds(20)).until(() -> Harness.calls(wiremock, "/gitlab").stream()
                .anyMatch(c -> c.startsWith("PUT")));
        settle();

        assertThat(Harness.calls(wiremock, "/gitlab").stream().filter(c -> c.contains("/notes"))).containsExactly(
                "POST " + notes, "GET " + notes + "?sort=desc&order_by=created_at&per_page=100",
                "PUT " + notes + "/77");
    }

    /** A server that accepts connections and never answers: a call to it is started, never received. */
    static final class Blackhole implements AutoCloseable {
        private final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final List<Socket> held = new ArrayList<>();
        private final Thread thread;

        Blackhole() throws IOException {
            thread = new Thread(() -> {
                while (!socket.isClosed()) {
                    try {
                        Socket s = socket.accept();
                        synchronized (held) {
                            held.add(s);
                        }
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "blackhole");
            thread.setDaemon(true);
            thread.start();
        }

        String url() {
            return "http://127.0.0.1:" + socket.getLocalPort();
        }

        int accepted() {
            synchronized (held) {
                return held.size();
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
            synchronized (held) {
                for (Socket s : held) {
                    s.close();
                }
            }
        }
    }
}
