package dev.conveyor.deploy.grafana;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpServer;

import dev.conveyor.deploy.grafana.DashboardMetrics.Dashboard;
import dev.conveyor.deploy.grafana.DashboardMetrics.Query;
import dev.conveyor.testkit.prometheus.PrometheusServer;
import dev.conveyor.testkit.prometheus.PrometheusServer.Target;

/**
 * Every dashboard query, its variables substituted, is PromQL that a real Prometheus (Debian's) accepts, and returns
 * data when Prometheus scrapes an exposition with every metric the dashboards use.
 */
class DashboardQueriesIT {

    static HttpServer stack;
    static PrometheusServer prometheus;

    @BeforeAll
    static void start() throws IOException {
        byte[] exposition;
        try (InputStream in = DashboardQueriesIT.class.getResourceAsStream("/stack-exposition.txt")) {
            exposition = in.readAllBytes();
        }
        stack = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        stack.createContext("/q/metrics", exchange -> {
            exchange.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, exposition.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(exposition);
            }
        });
        stack.start();
        prometheus = PrometheusServer.start(List.of(Target.quarkus("stack", "127.0.0.1:" + stack.getAddress()
                .getPort())));
    }

    @AfterAll
    static void stop() {
        if (prometheus != null) {
            prometheus.close();
        }
        stack.stop(0);
    }

    @Test
    void everyQueryParsesAndReturnsData() {
        prometheus.awaitTargetsUp(Duration.ofSeconds(30));
        // rate() and increase() need two samples in their window: one more scrape after the first.
        await().atMost(Duration.ofSeconds(30)).until(() -> !prometheus.query(
                "rate(conveyor_events_consumed_total[1m])").isEmpty());
        List<String> empty = new ArrayList<>();
        for (Dashboard dashboard : DashboardsTest.DASHBOARDS.dashboards()) {
            for (Query q : DashboardsTest.DASHBOARDS.queries(dashboard.file(), Map.of())) {
                if (prometheus.query(q.expr()).isEmpty()) { // a query Prometheus rejects throws, naming the error
                    empty.add(q.source() + " / " + q.panel() + ": " + q.expr());
                }
            }
        }
        assertThat(empty).isEmpty();
    }
}
