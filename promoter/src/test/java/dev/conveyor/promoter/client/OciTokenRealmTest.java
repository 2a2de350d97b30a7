package dev.conveyor.promoter.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import dev.conveyor.stage.StageException;
import dev.conveyor.stage.net.OutboundPolicy;

/**
 * The realm of a registry's {@code Bearer} challenge is chosen by the registry, not by configuration: the chart
 * repository's credentials go there only when it is the registry's own host or the outbound policy allows it, and a
 * token service's redirect is not followed with them.
 */
class OciTokenRealmTest {

    static final String PASSWORD = "realm-test-secret";

    final List<HttpServer> servers = new CopyOnWriteArrayList<>();
    final List<String> tokenRequests = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        servers.forEach(s -> s.stop(0));
    }

    @Test
    void aRealmOnAnotherHostThePolicyRefusesNeverSeesTheCredentials() throws IOException {
        // A token service on loopback under another name than the registry's: loopback is refused by the policy.
        HttpServer tokens = server(exchange -> {
            tokenRequests.add(exchange.getRequestHeaders().getFirst("Authorization"));
            return new Answer(200, "{\"token\":\"t\"}", null);
        });
        HttpServer registry = registryChallenging("http://localhost:" + port(tokens) + "/token");

        assertThatThrownBy(() -> repository(registry).layerDigest(chart())).isInstanceOfSatisfying(
                StageException.class, e -> {
                    assertThat(e.reason()).isEqualTo("OUTBOUND_REFUSED");
                    assertThat(e.getMessage()).contains("conveyor.promoter.chart-repositories.oci").doesNotContain(
                            PASSWORD);
                });
        assertThat(tokenRequests).isEmpty();
    }

    @Test
    void aMetadataRealmIsRefusedBeforeAnyConnection() throws IOException {
        HttpServer registry = registryChallenging("https://169.254.169.254/latest/token");

        assertThatThrownBy(() -> repository(registry).layerDigest(chart())).isInstanceOfSatisfying(
                StageException.class, e -> assertThat(e.reason()).isEqualTo("OUTBOUND_REFUSED"));
    }

    @Test
    void aTokenServiceRedirectIsNotFollowedWithTheCredentials() throws IOException {
        HttpServer elsewhere = server(exchange -> {
            tokenRequests.add(String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
            return new Answer(200, "{\"token\":\"t\"}", null);
        });
        // The registry's own host (allowed without the policy) answers the token request with a redirect.
        HttpServer tokens = server(exchange -> new Answer(302, "", "http://127.0.0.1:" + port(elsewhere) + "/t"));
        HttpServer registry = registryChallenging("http://127.0.0.1:" + port(tokens) + "/token");

        assertThatThrownBy(() -> repository(registry).layerDigest(chart())).isInstanceOf(StageException.class);
        assertThat(tokenRequests).isEmpty();
    }

    @Test
    void aRealmOnTheRegistrysOwnHostIsAsked() throws IOException {
        HttpServer tokens = server(exchange -> {
            tokenRequests.add(exchange.getRequestHeaders().getFirst("Authorization"));
            return new Answer(200, "{\"token\":\"t\"}", null);
        });
        HttpServer registry = server(exchange -> "Bearer t".equals(exchange.getRequestHeaders().getFirst(
                "Authorization"))
                        ? new Answer(404, "", null)
                        : challenge("http://127.0.0.1:" + port(tokens) + "/token"));

        assertThat(repository(registry).layerDigest(chart())).isEmpty();
        assertThat(tokenRequests).hasSize(1).allMatch(a -> a.startsWith("Basic "));
    }

    /** A status, a body, and the header it needs: {@code Location} for a redirect, the challenge's realm for 401. */
    private record Answer(int status, String body, String header) {
    }

    private static Answer challenge(String realm) {
        return new Answer(401, "", realm);
    }

    private HttpServer registryChallenging(String realm) throws IOException {
        return server(exchange -> challenge(realm));
    }

    private HttpServer server(Function<HttpExchange, Answer> handler) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            Answer a = handler.apply(exchange);
            if (a.status() == 401) {
                exchange.getResponseHeaders().add("WWW-Authenticate", "Bearer realm=\"" + a.header()
                        + "\",service=\"test\"");
            } else if (a.header() != null) {
                exchange.getResponseHeaders().add("Location", a.header());
            }
            byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(a.status(), body.length == 0 ? -1 : body.length);
            if (body.length > 0) {
                exchange.getResponseBody().write(body);
            }
            exchange.close();
        });
        server.start();
        servers.add(server);
        return server;
    }

    private static int port(HttpServer server) {
        return server.getAddress().getPort();
    }

    private OciChartRepository repository(HttpServer registry) {
        return new OciChartRepository("oci", "oci://127.0.0.1:" + port(registry) + "/charts", true, Optional.of(
                "ci"), Optional.of(PASSWORD), OutboundPolicy.builder().build());
    }

    private static PackagedChart chart() {
        return new PackagedChart("cart", "1.0.0", Path.of("cart-1.0.0.tgz"), "0", java.util.Map.of());
    }
}
