package dev.conveyor.imagebuilder.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.sun.net.httpserver.HttpServer;

import dev.conveyor.events.v1.Artifact;
import dev.conveyor.imagebuilder.support.Artifacts;
import dev.conveyor.stage.FailureKind;
import dev.conveyor.stage.StageException;

/** Downloads from a real HTTP server on loopback and copies from the file system. */
class ArtifactFetcherTest {

    @TempDir
    Path dir;

    HttpServer server;
    final List<String> authorizations = new CopyOnWriteArrayList<>();
    byte[] body = "the artifact".getBytes(StandardCharsets.UTF_8);

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            authorizations.add(String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
            String path = exchange.getRequestURI().getPath();
            switch (path) {
                case "/ok" -> {
                    exchange.sendResponseHeaders(200, body.length);
                    exchange.getResponseBody().write(body);
                }
                case "/streamed" -> {
                    exchange.sendResponseHeaders(200, 0);
                    exchange.getResponseBody().write(body);
                }
                case "/away" -> {
                    exchange.getResponseHeaders().add("Location", "http://localhost:" + server.getAddress()
                            .getPort() + "/ok");
                    exchange.sendResponseHeaders(302, -1);
                }
                case "/denied" -> exchange.sendResponseHeaders(403, -1);
                case "/broken" -> exchange.sendResponseHeaders(503, -1);
                default -> exchange.sendResponseHeaders(404, -1);
            }
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void aDownloadIsVerifiedAndCarriesTheHostsCredentials() throws IOException {
        Path file = fetcher(1024).fetch(artifact("/ok", body), Files.createDirectories(dir.resolve("w")));

        assertThat(Files.readAllBytes(file)).isEqualTo(body);
        assertThat(authorizations).containsExactly("Bearer t0ken");
    }

    @Test
    void aRedirectToAnotherHostDoesNotCarryTheCredentials() throws IOException {
        Path file = fetcher(1024).fetch(artifact("/away", body), Files.createDirectories(dir.resolve("w")));

        assertThat(Files.readAllBytes(file)).isEqualTo(body);
        assertThat(authorizations).containsExactly("Bearer t0ken", "null");
    }

    @Test
    void failuresAreClassified() {
        assertReason("/nothing", body, 1024, "ARTIFACT_MISSING", FailureKind.TERMINAL);
        assertReason("/denied", body, 1024, "ARTIFACT_ACCESS_DENIED", FailureKind.TERMINAL);
        assertReason("/broken", body, 1024, "ARTIFACT_UNREACHABLE", FailureKind.TRANSIENT);
        assertReason("/ok", body, 4, "ARTIFACT_TOO_LARGE", FailureKind.TERMINAL);
        assertReason("/streamed", body, 4, "ARTIFACT_TOO_LARGE", FailureKind.TERMINAL);
        assertReason("/ok", "other".getBytes(StandardCharsets.UTF_8), 1024, "CHECKSUM_MISMATCH",
                FailureKind.TERMINAL);
    }

    @Test
    void filesMustLieUnderAnAllowedRoot() throws IOException {
        Path inside = Files.writeString(dir.resolve("app.jar"), "jar");
        Path work = Files.createDirectories(dir.resolve("w"));
        ArtifactFetcher fetcher = new ArtifactFetcher(HttpClient.newHttpClient(), 1024, Duration.ofSeconds(5),
                List.of(dir), Map.of());

        assertThat(fetcher.fetch(new Artifact(inside.toUri().toString(), Artifacts.sha256(inside), 3L, null), work))
                .hasContent("jar");
        assertThatThrownBy(() -> fetcher.fetch(new Artifact("file:///etc/hostname", "ab".repeat(32), null, null),
                work)).isInstanceOfSatisfying(StageException.class, e -> assertThat(e.reason()).isEqualTo(
                        "ARTIFACT_URI_REFUSED"));
        assertThatThrownBy(() -> fetcher.fetch(new Artifact(inside.toUri().toString(), Artifacts.sha256(inside), 4L,
                null), work)).isInstanceOfSatisfying(StageException.class, e -> assertThat(e.reason()).isEqualTo(
                        "CHECKSUM_MISMATCH"));
        assertThatThrownBy(() -> fetcher.fetch(new Artifact("ftp://x/y", "ab".repeat(32), null, null), work))
                .isInstanceOfSatisfying(StageException.class, e -> assertThat(e.reason()).isEqualTo(
                        "ARTIFACT_URI_REFUSED"));
    }

    @Test
    void credentialsInTheUriNeverReachTheMessage() {
        assertThatThrownBy(() -> fetcher(1024).fetch(new Artifact("http://me:pa55@127.0.0.1:" + server.getAddress()
                .getPort() + "/nothing?token=abc", "ab".repeat(32), null, null), dir))
                .isInstanceOfSatisfying(StageException.class, e -> assertThat(e.getMessage()).doesNotContain("pa55",
                        "abc"));
    }

    private void assertReason(String path, byte[] expected, long limit, String reason, FailureKind kind) {
        assertThatThrownBy(() -> fetcher(limit).fetch(artifact(path, expected), Files.createTempDirectory(dir, "w")))
                .as(path).isInstanceOfSatisfying(StageException.class, e -> {
                    assertThat(e.reason()).isEqualTo(reason);
                    assertThat(e.kind()).isEqualTo(kind);
                    assertThat(e.getMessage()).doesNotContain("t0ken");
                });
    }

    private ArtifactFetcher fetcher(long limit) {
        return new ArtifactFetcher(HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build(), limit,
                Duration.ofSeconds(5), List.of(dir), Map.of("127.0.0.1:" + server.getAddress().getPort(),
                        new ArtifactFetcher.HostAuth(Optional.empty(), Optional.empty(), Optional.of("t0ken"))));
    }

    private Artifact artifact(String path, byte[] expected) throws IOException {
        Path tmp = Files.write(Files.createTempFile(dir, "expected", ""), expected);
        return new Artifact("http://127.0.0.1:" + server.getAddress().getPort() + path, Artifacts.sha256(tmp), null,
                null);
    }
}
