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
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.github.tomakehurst.wiremock.WireMockServer;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.notifier.domain.ProviderKind;
import dev.conveyor.notifier.testing.Harness;
import dev.conveyor.notifier.testing.Runs;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * A run's sync and health read before its other events (each topic has its own consumer group, so after a restart
 * one topic's backlog can come first), with a restart in between: what was held survives in the journal and the run
 * is still announced once.
 */
class OutOfOrderRunTest {

    static final String SHA = "fedcba9876543210fedcba9876543210fedcba98";
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
                .willReturn(okJson("{\"ok\":true,\"channel\":\"C0CART\",\"ts\":\"1700000002.000300\"}")));
        wiremock.stubFor(post(urlEqualTo("/slack/api/chat.update"))
                .willReturn(okJson("{\"ok\":true,\"channel\":\"C0CART\",\"ts\":\"1700000002.000300\"}")));
        wiremock.stubFor(post(urlPathMatching("/jira/rest/api/3/issue/[A-Z]+-[0-9]+/comment"))
                .willReturn(aResponse().withStatus(201).withHeader("Content-Type", "application/json")
                        .withBody("{\"id\":\"10001\"}")));
        wiremock.stubFor(post(urlPathMatching("/jira/rest/api/3/issue/[A-Z]+-[0-9]+/transitions"))
                .willReturn(aResponse().withStatus(204)));
    }

    @AfterEach
    void stop() {
        Harness.closeQuietly(service);
    }

    void start() {
        service = Harness.start(Harness.settings(wiremock, dir.resolve("data"),
                Map.of("conveyor.notifier.jira.transition-id", "41")), new SimpleMeterRegistry());
    }

    void settle(int expectedCalls) {
        await().atMost(Duration.ofSeconds(20)).until(() -> wiremock.getAllServeEvents().size() >= expectedCalls
                && Arrays.stream(ProviderKind.values()).allMatch(p -> service.backlog(p) == 0));
    }

    @Test
    void aSyncAndHealthReadFirstAreKeptAcrossARestartAndTheRunIsAnnouncedOnce() {
        List<ConveyorEvent> run = Runs.delivery("cart", "https://github.com/acme/cart.git", SHA);
        ConveyorEvent synced = run.get(6);
        ConveyorEvent healthy = run.get(7);
        start();
        assertThat(service.accept(synced, Runs.id(synced))).isTrue();
        assertThat(service.accept(healthy, Runs.id(healthy))).isTrue();
        settle(2);
        assertThat(Harness.calls(wiremock, "/jira")).isEmpty();

        service.close();
        start();
        for (ConveyorEvent e : run.subList(0, 6)) {
            assertThat(service.accept(e, Runs.id(e))).isTrue();
        }
        settle(12);

        assertThat(Harness.calls(wiremock, "/jira")).containsExactly("POST /jira/rest/api/3/issue/SHOP-7/comment",
                "POST /jira/rest/api/3/issue/SHOP-7/transitions", "POST /jira/rest/api/3/issue/SHOP-8/comment",
                "POST /jira/rest/api/3/issue/SHOP-8/transitions");
        assertThat(Harness.calls(wiremock, "/slack")).hasSize(8).filteredOn(c -> c.endsWith("chat.postMessage"))
                .hasSize(1);
        String lastSlack = Harness.requests(wiremock).stream().filter(r -> r.getUrl().endsWith("chat.update"))
                .reduce((a, b) -> b).orElseThrow().getBodyAsString();
        assertThat(lastSlack).contains("cart* 2.4.0 deployed", "Deployed to *production*");
        String comment = Harness.requests(wiremock).stream().filter(r -> r.getUrl().endsWith("SHOP-7/comment"))
                .findFirst().orElseThrow().getBodyAsString();
        assertThat(comment).contains("cart 2.4.0 deployed to production", "registry.example.com/cart@"
                + Runs.IMAGE_DIGEST, "https://jenkins.example.com/job/cart/8/");

        // every record again after another restart: handled before, no call
        service.close();
        start();
        int before = wiremock.getAllServeEvents().size();
        run.forEach(e -> assertThat(service.accept(e, Runs.id(e))).isFalse());
        settle(before);
        assertThat(wiremock.getAllServeEvents()).hasSize(before);
    }
}
