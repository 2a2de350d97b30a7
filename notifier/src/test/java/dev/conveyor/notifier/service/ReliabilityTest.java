package dev.conveyor.notifier.service;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.patch;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.notifier.domain.ProviderKind;
import dev.conveyor.notifier.testing.Harness;
import dev.conveyor.notifier.testing.Runs;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** Retries, Retry-After, permanent refusals, and one provider down while another answers. */
class ReliabilityTest {

    static final String SHA = "0123456789abcdef0123456789abcdef01234567";
    static final String STATUSES = "/github/repos/acme/shop/statuses/" + SHA;
    static WireMockServer wiremock;

    @TempDir
    Path dir;
    NotifierService service;
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final List<String> logs = new ArrayList<>();
    final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            String text = record.getMessage();
            if (record.getParameters() != null) {
                text += " " + Arrays.toString(record.getParameters());
            }
            synchronized (logs) {
                logs.add(text);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

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
    void reset() {
        wiremock.resetAll();
        wiremock.stubFor(post(urlEqualTo("/github/repos/acme/shop/issues/42/comments"))
                .willReturn(aResponse().withStatus(201).withHeader("Content-Type", "application/json")
                        .withBody("{\"id\":9001}")));
        wiremock.stubFor(patch(urlEqualTo("/github/repos/acme/shop/issues/comments/9001"))
                .willReturn(okJson("{\"id\":9001}")));
        Logger.getLogger("dev.conveyor.notifier").addHandler(capture);
    }

    @AfterEach
    void stop() {
        Logger.getLogger("dev.conveyor.notifier").removeHandler(capture);
        Harness.closeQuietly(service);
    }

    void start(Map<String, String> extra) {
        service = Harness.start(Harness.settings(wiremock, dir.resolve("data"), extra), registry);
    }

    List<ConveyorEvent> run() {
        return Runs.pullRequest("shop", "https://github.com/acme/shop.git", 42, SHA);
    }

    boolean settled() {
        return Arrays.stream(ProviderKind.values()).allMatch(p -> service.backlog(p) == 0);
    }

    double deliveries(String provider, String outcome) {
        return registry.find(NotifierMetrics.DELIVERIES).tag("provider", provider).tag("outcome", outcome).counters()
                .stream().mapToDouble(c -> c.count()).sum();
    }

    @Test
    void a429IsRetriedAfterItsRetryAfterAndNotBefore() {
        wiremock.stubFor(post(urlPathMatching(STATUSES)).inScenario("limit").whenScenarioStateIs(STARTED)
                .willReturn(aResponse().withStatus(429).withHeader("Retry-After", "2")
                        .withHeader("Content-Type", "application/json")
                        .withBody("{\"message\":\"API rate limit exceeded\"}"))
                .willSetStateTo("open"));
        wiremock.stubFor(post(urlPathMatching(STATUSES)).inScenario("limit").whenScenarioStateIs("open")
                .willReturn(aResponse().withStatus(201).withBody("{}")));
        start(Map.of("conveyor.notifier.slack.token", "", "conveyor.notifier.jira.base-url", ""));

        service.accept(run().get(0), Runs.id(run().get(0)));
        await().atMost(Duration.ofSeconds(20)).until(() -> wiremock.getAllServeEvents().size() >= 4 && settled());

        List<LoggedRequest> statuses = Harness.requests(wiremock).stream()
                .filter(r -> r.getUrl().equals(STATUSES)).toList();
        assertThat(statuses).hasSize(3);
        long waited = statuses.get(1).getLoggedDate().getTime() - statuses.get(0).getLoggedDate().getTime();
        // the backoff alone would wait at most 100 ms here
        assertThat(waited).isGreaterThanOrEqualTo(1900);
        assertThat(statuses.get(1).getBodyAsString()).isEqualTo(statuses.get(0).getBodyAsString());
        assertThat(registry.find(NotifierMetrics.RETRIES).tag("cause", "rate_limited").counter().count())
                .isEqualTo(1.0);
        assertThat(deliveries("github", "delivered")).isEqualTo(3.0);
    }

    @Test
    void slackHangingNeverDelaysTheGitHubStatus() {
        wiremock.stubFor(post(urlPathMatching(STATUSES)).willReturn(aResponse().withStatus(201).withBody("{}")));
        wiremock.stubFor(post(urlEqualTo("/slack/api/chat.postMessage"))
                .willReturn(okJson("{\"ok\":true,\"channel\":\"C1\",\"ts\":\"1.2\"}").withFixedDelay(4_000)));
        start(Map.of("conveyor.notifier.jira.base-url", ""));
        long start = System.nanoTime();

        service.accept(run().get(0), Runs.id(run().get(0)));

        await().atMost(Duration.ofSeconds(2)).until(() -> Harness.calls(wiremock, "/github").size() == 3
                && service.backlog(ProviderKind.GITHUB) == 0);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
        assertThat(service.backlog(ProviderKind.SLACK)).isEqualTo(1);
        assertThat(registry.find(NotifierMetrics.BACKLOG).tag("provider", "slack").gauge().value()).isEqualTo(1.0);
        await().atMost(Duration.ofSeconds(20)).until(this::settled);
        assertThat(deliveries("slack", "delivered")).isEqualTo(1.0);
    }

    @Test
    void aPermanentRefusalIsLoggedAndCountedOnceAndNeverCarriesTheToken() {
        wiremock.stubFor(post(urlPathMatching(STATUSES)).willReturn(aResponse().withStatus(401)
                .withHeader("Content-Type", "application/json")
                .withBody("{\"message\":\"Bad credentials\",\"documentation_url\":\"https://docs.github.com/rest\"}")));
        start(Map.of("conveyor.notifier.slack.token", "", "conveyor.notifier.jira.base-url", ""));

        service.accept(run().get(0), Runs.id(run().get(0)));
        await().atMost(Duration.ofSeconds(20)).until(() -> wiremock.getAllServeEvents().size() >= 3 && settled());

        assertThat(Harness.calls(wiremock, "/github")).containsExactly("POST " + STATUSES, "POST " + STATUSES,
                "POST /github/repos/acme/shop/issues/42/comments");
        assertThat(deliveries("github", "rejected")).isEqualTo(2.0);
        assertThat(deliveries("github", "delivered")).isEqualTo(1.0);
        assertThat(registry.find("conveyor.stage.failures").tag("reason", "PROVIDER_REJECTED").counter().count())
                .isEqualTo(2.0);
        synchronized (logs) {
            assertThat(logs).anySatisfy(l -> assertThat(l).contains("HTTP 401 (Bad credentials)"));
            assertThat(logs).noneSatisfy(l -> assertThat(l).contains(Harness.GITHUB_TOKEN));
        }
    }

    @Test
    void aProviderThatKeepsFailingIsGivenUpAfterTheConfiguredAttempts() {
        String hook = wiremock.baseUrl() + "/hooks/T000/B000/s3cr3tW3bh00k";
        wiremock.stubFor(post(urlPathMatching("/hooks/.*")).willReturn(aResponse().withStatus(503)));
        start(Map.of("conveyor.notifier.slack.token", "", "conveyor.notifier.slack.webhook-url", hook,
                "conveyor.notifier.github.token", "", "conveyor.notifier.jira.base-url", ""));

        run().forEach(e -> service.accept(e, Runs.id(e)));
        await().atMost(Duration.ofSeconds(20)).until(() -> wiremock.getAllServeEvents().size() >= 4 && settled());

        assertThat(Harness.calls(wiremock, "/hooks")).hasSize(4);
        assertThat(deliveries("slack", "gave_up")).isEqualTo(1.0);
        synchronized (logs) {
            assertThat(logs).anySatisfy(l -> assertThat(l).contains("slack incoming webhook: HTTP 503"));
            assertThat(logs).noneSatisfy(l -> assertThat(l).contains("s3cr3tW3bh00k"));
        }
    }
}
