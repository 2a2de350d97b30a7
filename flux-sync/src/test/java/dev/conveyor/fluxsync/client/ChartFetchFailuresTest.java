package dev.conveyor.fluxsync.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpServer;

import dev.conveyor.fluxsync.ServedFiles;
import dev.conveyor.fluxsync.domain.ChartSource;

/**
 * Charts from a real Helm repository served in the test over HTTP: semver ranges resolved against its
 * {@code index.yaml}, the render-cache key following the resolved version, and every fetch failure naming its root
 * cause (connection refused, host not found, HTTP status) and whether a retry can fix it — never {@code : null}.
 */
class ChartFetchFailuresTest {

    static HttpServer http;
    static Path work;
    static volatile int status = 200;

    static final String CHART = "apiVersion: v2\nname: web\nversion: %s\n";
    static final String TEMPLATE = """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: {{ .Release.Name }}
            data:
              chartVersion: {{ .Chart.Version | quote }}
            """;

    @BeforeAll
    static void serve() throws Exception {
        work = Files.createTempDirectory("chart-fetch");
        Path served = Files.createDirectories(work.resolve("served"));
        ServedFiles.helmRepository(work, served, "web", List.of("1.1.0", "1.2.0", "1.2.5", "2.0.0"), v -> Map.of(
                "Chart.yaml", CHART.formatted(v), "templates/cm.yaml", TEMPLATE));
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        http.createContext("/", exchange -> {
            if (status != 200) {
                exchange.sendResponseHeaders(status, -1);
                exchange.close();
                return;
            }
            ServedFiles.send(exchange, served);
        });
        http.start();
    }

    @AfterAll
    static void stop() {
        http.stop(0);
    }

    static String url() {
        return "http://127.0.0.1:" + http.getAddress().getPort() + "/";
    }

    static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void anUnreachableHelmRepositoryNamesConnectionRefusedNotNull() throws Exception {
        ChartRenderer renderer = new ChartRenderer(work.resolve("r1"));
        String repo = "http://127.0.0.1:" + closedPort() + "/";
        assertThatThrownBy(() -> renderer.renderRemote(new ChartSource.HelmRepository(repo, "sealed-secrets",
                "1.6.1"), "sealed-secrets", "kube-system", Map.of()))
                .isInstanceOf(ChartRenderer.RenderException.class)
                .hasMessageStartingWith("cannot fetch chart sealed-secrets 1.6.1 from " + repo + ": ")
                .hasMessageNotContaining("null")
                .hasMessageContaining("connection refused by 127.0.0.1:");
    }

    @Test
    void networkFailuresAndServerErrorsCanBeRetriedAMissingVersionOrA404CannotBe() throws Exception {
        ChartRenderer renderer = new ChartRenderer(work.resolve("r2"));
        ChartRenderer.RenderException refused = failure(renderer, new ChartSource.HelmRepository("http://127.0.0.1:"
                + closedPort() + "/", "web", "1.2.0"));
        assertThat(refused.retriable()).isTrue();

        ChartRenderer.RenderException unknownHost = failure(renderer, new ChartSource.HelmRepository(
                "http://charts.conveyor-test.invalid/", "web", "1.2.0"));
        assertThat(unknownHost.getMessage()).contains("host not found (charts.conveyor-test.invalid)");
        assertThat(unknownHost.retriable()).isTrue();

        ChartRenderer.RenderException missing = failure(renderer, new ChartSource.HelmRepository(url(), "web",
                "9.9.9"));
        assertThat(missing.getMessage()).contains("chart web 9.9.9 is not in " + url() + "index.yaml").contains(
                "1.2.5");
        assertThat(missing.retriable()).isFalse();

        ChartRenderer.RenderException noMatch = failure(renderer, new ChartSource.HelmRepository(url(), "web",
                ">=3"));
        assertThat(noMatch.getMessage()).contains("no version of chart web").contains("satisfies >=3");
        assertThat(noMatch.retriable()).isFalse();

        status = 503;
        try {
            ChartRenderer.RenderException unavailable = failure(renderer, new ChartSource.HelmRepository(url(),
                    "web", "1.2.0"));
            assertThat(unavailable.getMessage()).contains("HTTP 503 for " + url() + "index.yaml");
            assertThat(unavailable.retriable()).isTrue();
            status = 404;
            ChartRenderer.RenderException notFound = failure(renderer, new ChartSource.HelmRepository(url(), "web",
                    "1.2.0"));
            assertThat(notFound.getMessage()).contains("HTTP 404");
            assertThat(notFound.retriable()).isFalse();
        } finally {
            status = 200;
        }
    }

    @Test
    void semverRangesResolveAgainstTheIndexAndTheCacheKeyFollowsTheResolvedVersion() throws Exception {
        ChartRenderer renderer = new ChartRenderer(work.resolve("r3"));
        for (String[] c : new String[][]{{">=1.2.0 <2", "1.2.5"}, {"1.x", "1.2.5"}, {"~1.1", "1.1.0"},
                {"*", "2.0.0"}, {"1.2.0", "1.2.0"}}) {
            ChartSource.HelmRepository source = new ChartSource.HelmRepository(url(), "web", c[0]);
            String yaml = renderer.renderRemote(source, "web", "apps", Map.of());
            assertThat(yaml).as(c[0]).contains("chartVersion: \"" + c[1] + "\"");
            assertThat(renderer.sourceKey(source)).as(c[0]).contains(c[1]);
        }
        assertThat(renderer.sourceKey(new ChartSource.HelmRepository(url(), "web", "1.x"))).isNotEqualTo(renderer
                .sourceKey(new ChartSource.HelmRepository(url(), "web", "~1.1")));
    }

    static ChartRenderer.RenderException failure(ChartRenderer renderer, ChartSource source) {
        try {
            renderer.renderRemote(source, "r", "ns", Map.of());
        } catch (ChartRenderer.RenderException e) {
            return e;
        }
        throw new AssertionError("rendered " + source);
    }
}
