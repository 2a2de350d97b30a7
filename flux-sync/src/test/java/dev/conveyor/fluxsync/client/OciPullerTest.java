package dev.conveyor.fluxsync.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import dev.conveyor.fluxsync.ServedFiles;
import dev.conveyor.fluxsync.domain.ChartSource;
import dev.conveyor.stage.net.OutboundPolicy;

/**
 * flux-sync's own OCI pull against a registry served in the test (the distribution API's {@code manifests} and
 * {@code blobs} paths, answers the testkit's docker-registry cannot be made to give): a chart layer whose bytes do not
 * match its digest, a manifest without a chart layer, a layer larger than the bound, and a token realm or a blob
 * redirect the outbound policy refuses — refused, named, and never dialled (a second listener, the trap, counts).
 */
class OciPullerTest {

    static HttpServer registry;
    static HttpServer trap;
    static final AtomicInteger trapped = new AtomicInteger();
    static final AtomicInteger blobGets = new AtomicInteger();
    static Path work;
    static byte[] chart;
    static String digest;

    @BeforeAll
    static void serve() throws Exception {
        work = Files.createTempDirectory("oci-puller");
        Path served = work.resolve("served");
        ServedFiles.helmRepository(work, served, "web", List.of("1.0.0"), v -> Map.of("Chart.yaml",
                "apiVersion: v2\nname: web\nversion: " + v + "\n", "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"));
        chart = Files.readAllBytes(served.resolve("web-1.0.0.tgz"));
        digest = "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(chart));
        trap = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        trap.createContext("/", exchange -> {
            trapped.incrementAndGet();
            respond(exchange, 200, "{\"token\":\"t\"}");
        });
        trap.start();
        registry = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        registry.createContext("/v2/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            String name = path.split("/")[3];
            if (name.equals("token")) {
                exchange.getResponseHeaders().add("WWW-Authenticate", "Bearer realm=\"http://127.0.0.1:" + trap
                        .getAddress().getPort() + "/token\",service=\"r\",scope=\"repository:charts/token:pull\"");
                respond(exchange, 401, "{}");
            } else if (path.contains("/manifests/")) {
                String layerType = name.equals("nochart")
                        ? "application/vnd.oci.image.layer.v1.tar+gzip"
                        : OciPuller.CHART_LAYER;
                long size = name.equals("big") ? 200L * 1024 * 1024 : chart.length;
                respond(exchange, 200, """
                        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                         "config": {"mediaType": "application/vnd.cncf.helm.config.v1+json", "digest": "%s", "size": 2},
                         "layers": [{"mediaType": "%s", "digest": "%s", "size": %d}]}
                        """.formatted(digest, layerType, digest, size));
            } else if (path.contains("/blobs/")) {
                blobGets.incrementAndGet();
                if (name.equals("redirect")) {
                    exchange.getResponseHeaders().add("Location", "http://127.0.0.1:" + trap.getAddress().getPort()
                            + "/blob");
                    respond(exchange, 307, "");
                    return;
                }
                byte[] body = chart.clone();
                if (name.equals("tampered")) {
                    body[body.length - 1] ^= 1;
                }
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            } else {
                respond(exchange, 404, "{}");
            }
        });
        registry.start();
    }

    @AfterAll
    static void stop() {
        registry.stop(0);
        trap.stop(0);
    }

    static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    static ChartRenderer renderer(String dir) {
        OutboundPolicy outbound = OutboundPolicy.builder().schemes(List.of("http", "https")).hosts(List.of(
                "127.0.0.1:" + registry.getAddress().getPort())).allowedNetworks(List.of("127.0.0.1/32")).build();
        return new ChartRenderer(work.resolve(dir), java.util.Set.of(), ChartCredentials.none(), null, outbound);
    }

    static ChartSource.Oci oci(String name) {
        return new ChartSource.Oci("oci://127.0.0.1:" + registry.getAddress().getPort() + "/charts/" + name, "1.0.0",
                true, null, "OCIRepository apps/" + name + " spec.url");
    }

    @Test
    void aChartLayerIsRenderedOnceItsDigestMatchesAndIsCachedByDigest() throws Exception {
        ChartRenderer renderer = renderer("ok");
        int before = blobGets.get();

        assertThat(renderer.renderRemote(oci("web"), "rel", "ns", Map.of())).contains("name: rel");
        assertThat(renderer.renderRemote(oci("web"), "rel", "ns", Map.of())).contains("name: rel");

        assertThat(blobGets.get() - before).as("the blob is pulled once").isEqualTo(1);
        assertThat(work.resolve("ok/remote/oci/" + digest.substring(7) + ".tgz")).exists();
    }

    @Test
    void aLayerWhoseBytesDoNotMatchItsDigestIsRefusedAndNotCached() {
        ChartRenderer renderer = renderer("tampered");

        assertThatThrownBy(() -> renderer.renderRemote(oci("tampered"), "rel", "ns", Map.of())).isInstanceOfSatisfying(
                ChartRenderer.RenderException.class, e -> {
                    assertThat(e.getMessage()).contains("digest mismatch").contains(digest);
                    assertThat(e.retriable()).isFalse();
                });
        assertThat(work.resolve("tampered/remote/oci/" + digest.substring(7) + ".tgz")).doesNotExist();
    }

    @Test
    void aManifestWithoutAChartLayerIsNotAChart() {
        assertThatThrownBy(() -> renderer("nochart").renderRemote(oci("nochart"), "rel", "ns", Map.of()))
                .hasMessageContaining("is not a Helm chart").hasMessageContaining(OciPuller.CHART_LAYER);
    }

    @Test
    void aLayerLargerThanTheBoundIsNotPulled() {
        int before = blobGets.get();

        assertThatThrownBy(() -> renderer("big").renderRemote(oci("big"), "rel", "ns", Map.of()))
                .hasMessageContaining("is larger than " + ChartRenderer.MAX_ARCHIVE_BYTES + " bytes");
        assertThat(blobGets.get()).isEqualTo(before);
    }

    @Test
    void aTokenRealmOrABlobRedirectTheOutboundPolicyRefusesIsNeverDialled() {
        int before = trapped.get();

        assertThatThrownBy(() -> renderer("token").renderRemote(oci("token"), "rel", "ns", Map.of()))
                .isInstanceOfSatisfying(ChartRenderer.RenderException.class, e -> {
                    assertThat(e.outboundRefused()).as(e.getMessage()).isTrue();
                    assertThat(e.getMessage()).contains("OCIRepository apps/token spec.url").contains(
                            "the token service 127.0.0.1 the registry named");
                });
        assertThatThrownBy(() -> renderer("redirect").renderRemote(oci("redirect"), "rel", "ns", Map.of()))
                .isInstanceOfSatisfying(ChartRenderer.RenderException.class, e -> {
                    assertThat(e.outboundRefused()).as(e.getMessage()).isTrue();
                    assertThat(e.getMessage()).contains("a redirect answered by 127.0.0.1");
                });
        assertThat(trapped).hasValue(before);
    }
}
