package dev.conveyor.testkit.prometheus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.sun.net.httpserver.HttpServer;

import dev.conveyor.testkit.prometheus.PrometheusServer.Sample;
import dev.conveyor.testkit.prometheus.PrometheusServer.Target;

/** A real Prometheus scraping a tiny exposition served by the JDK's HTTP server. */
class PrometheusServerIT {

    static HttpServer app;
    static final AtomicInteger handled = new AtomicInteger();

    @BeforeAll
    static void serveMetrics() throws IOException {
        app = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        app.createContext("/q/metrics", exchange -> {
            int n = handled.incrementAndGet();
            byte[] body = ("# TYPE conveyor_test_events_total counter\n"
                    + "conveyor_test_events_total{stage=\"versioner\"} " + (n * 2) + ".0\n"
                    + "# TYPE conveyor_test_value gauge\n"
                    + "conveyor_test_value{stage=\"versioner\"} 42.0\n").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        app.start();
    }

    @AfterAll
    static void stop() {
        app.stop(0);
    }

    static String address() {
        return "127.0.0.1:" + app.getAddress().getPort();
    }

    @Test
    void scrapesATargetEvaluatesRulesAndAnswersQueries(@TempDir Path rulesDir) throws IOException {
        Path rules = Files.writeString(rulesDir.resolve("rules.yaml"), """
                groups:
                  - name: test
                    rules:
                      - record: conveyor:test_value:doubled
                        expr: conveyor_test_value * 2
                """);
        Path dir;
        try (PrometheusServer prometheus = PrometheusServer.start(List.of(Target.quarkus("tiny", address())),
                List.of(rules))) {
            dir = prometheus.logFile().getParent();
            prometheus.awaitTargetsUp(Duration.ofSeconds(20));

            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(prometheus.query(
                    "conveyor_test_value")).singleElement().satisfies(s -> {
                        assertThat(s.value()).isEqualTo(42.0);
                        assertThat(s.labels()).containsEntry("job", "tiny").containsEntry("stage", "versioner")
                                .containsEntry("__name__", "conveyor_test_value");
                    }));
            // Scraped every second: within a few seconds a rate is there.
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(prometheus.query(
                    "sum by (stage) (rate(conveyor_test_events_total[1m]))")).extracting(Sample::value)
                    .singleElement().satisfies(v -> assertThat(v).isPositive()));
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(prometheus.query(
                    "conveyor:test_value:doubled")).extracting(Sample::value).containsExactly(84.0));
            assertThat(prometheus.query("scalar(conveyor_test_value) * 2")).extracting(Sample::value)
                    .containsExactly(84.0);
            assertThat(prometheus.query("absent_metric_of_nobody")).isEmpty();
            assertThatThrownBy(() -> prometheus.query("sum by (le (rate(x[5m])"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bad_data");
        }
        assertThat(dir).doesNotExist();
    }

    @Test
    void aTargetThatIsDownIsNamedWithItsError() {
        try (PrometheusServer prometheus = PrometheusServer.start(List.of(Target.quarkus("tiny", address()),
                new Target("nothing", "127.0.0.1:1", "/q/metrics")))) {
            await().atMost(Duration.ofSeconds(20)).until(() -> prometheus.targetHealth().stream()
                    .anyMatch(h -> h.job().equals("nothing") && h.health().equals("down")));
            assertThatThrownBy(() -> prometheus.awaitTargetsUp(Duration.ofMillis(100)))
                    .hasMessageContaining("nothing http://127.0.0.1:1/q/metrics down")
                    .hasMessageContaining("connection refused");
        }
    }

    @Test
    void targetsAreValidated() {
        assertThatThrownBy(() -> Target.quarkus("bad job", "127.0.0.1:80")).hasMessageContaining("job name");
        assertThatThrownBy(() -> Target.quarkus("job", "http://x:80")).hasMessageContaining("host:port");
    }
}
