package dev.conveyor.promoter.client;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.binaryEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.github.tomakehurst.wiremock.WireMockServer;

import dev.conveyor.stage.FailureKind;
import dev.conveyor.stage.StageException;

/**
 * The ChartMuseum upload API (WireMock shaped like ChartMuseum's documented {@code /api/charts} endpoints): upload when
 * absent, nothing when the same digest is there, a conflict when another digest is, and credentials that never reach
 * a message.
 */
class ChartMuseumRepositoryIT {

    static final String PASSWORD = "museum-secret-password";

    WireMockServer museum;
    PackagedChart chart;
    byte[] tgz;

    @BeforeEach
    void start() throws Exception {
        museum = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
        museum.start();
        Path dir = Files.createTempDirectory("museum");
        tgz = "not really a chart, but bytes".getBytes(StandardCharsets.UTF_8);
        Path file = Files.write(dir.resolve("cart-1.0.0.tgz"), tgz);
        chart = new PackagedChart("cart", "1.0.0", file, ChartPackager.sha256(file), Map.of("name", "cart"));
    }

    @AfterEach
    void stop() {
        museum.stop();
    }

    ChartMuseumRepository repository() {
        return new ChartMuseumRepository("museum", museum.baseUrl(), Optional.of("ci"), Optional.of(PASSWORD));
    }

    @Test
    void anAbsentVersionIsUploadedWithBasicAuth() {
        museum.stubFor(get(urlPathEqualTo("/api/charts/cart/1.0.0")).willReturn(aResponse().withStatus(404)
                .withBody("{\"error\":\"improper constraint: 1.0.0\"}")));
        museum.stubFor(post(urlPathEqualTo("/api/charts")).willReturn(aResponse().withStatus(201).withBody(
                "{\"saved\":true}")));

        assertThat(repository().publish(chart, "r-1")).isEqualTo(ChartRepository.Outcome.PUBLISHED);

        museum.verify(1, postRequestedFor(urlPathEqualTo("/api/charts")).withRequestBody(binaryEqualTo(tgz))
                .withHeader("Authorization", equalTo("Basic " + Base64.getEncoder().encodeToString(("ci:" + PASSWORD)
                        .getBytes(StandardCharsets.UTF_8)))));
    }

    @Test
    void theSameDigestIsNotUploadedAgainAndAnotherOneIsAConflict() {
        museum.stubFor(get(urlPathEqualTo("/api/charts/cart/1.0.0")).willReturn(aResponse().withStatus(200)
                .withBody("{\"name\":\"cart\",\"version\":\"1.0.0\",\"digest\":\"" + chart.digestHex() + "\"}")));
        assertThat(repository().publish(chart, "r-1")).isEqualTo(ChartRepository.Outcome.ALREADY_PUBLISHED);
        museum.verify(0, postRequestedFor(urlPathEqualTo("/api/charts")));

        museum.stubFor(get(urlPathEqualTo("/api/charts/cart/1.0.0")).willReturn(aResponse().withStatus(200)
                .withBody("{\"name\":\"cart\",\"version\":\"1.0.0\",\"digest\":\"" + "0".repeat(64) + "\"}")));
        assertThatThrownBy(() -> repository().publish(chart, "r-1")).isInstanceOfSatisfying(StageException.class,
                e -> {
                    assertThat(e.reason()).isEqualTo("CHART_VERSION_CONFLICT");
                    assertThat(e.kind()).isEqualTo(FailureKind.TERMINAL);
                });
    }

    @Test
    void refusedCredentialsAreTerminalAndNeverQuoted() {
        museum.stubFor(get(urlPathEqualTo("/api/charts/cart/1.0.0")).willReturn(aResponse().withStatus(401)));
        assertThatThrownBy(() -> repository().publish(chart, "r-1")).isInstanceOfSatisfying(StageException.class,
                e -> {
                    assertThat(e.reason()).isEqualTo("CHART_REPO_AUTH_DENIED");
                    assertThat(e.kind()).isEqualTo(FailureKind.TERMINAL);
                    assertThat(e.getMessage() + e.details()).doesNotContain(PASSWORD);
                });
        museum.stubFor(get(urlPathEqualTo("/api/charts/cart/1.0.0")).willReturn(aResponse().withStatus(503)));
        assertThatThrownBy(() -> repository().publish(chart, "r-1")).isInstanceOfSatisfying(StageException.class,
                e -> assertThat(e.kind()).isEqualTo(FailureKind.TRANSIENT));
    }
}
