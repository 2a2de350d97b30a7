package dev.conveyor.imagebuilder.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.sun.net.httpserver.HttpServer;

import dev.conveyor.events.v1.Artifact;
import dev.conveyor.imagebuilder.support.Artifacts;
import dev.conveyor.stage.FailureKind;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.net.OutboundPolicy;
import dev.conveyor.stage.net.OutboundRefused;

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
                List.of(dir), Map.of(), loopbackAllowed());

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
        return fetcher(limit, loopbackAllowed());
    }

    private ArtifactFetcher fetcher(long limit, OutboundPolicy policy) {
        return new ArtifactFetcher(HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build(), limit,
                Duration.ofSeconds(5), List.of(dir), Map.of("127.0.0.1:" + server.getAddress().getPort(),
                        new ArtifactFetcher.HostAuth(Optional.empty(), Optional.empty(), Optional.of("t0ken"))),
                policy);
    }

    /** The policy of a stack that serves its artifacts on loopback, as the local stack does. */
    private OutboundPolicy loopbackAllowed() {
        return OutboundPolicy.builder().schemes(List.of("http", "https", "file")).allowedNetworks(List.of(
                "127.0.0.0/8", "::1/128")).fileRoots(List.of(dir)).build();
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://127.0.0.1:LISTENER/q/metrics", "http://localhost:LISTENER/q/metrics",
            "http://[::ffff:127.0.0.1]:LISTENER/q/metrics", "http://169.254.169.254/latest/meta-data/",
            "https://metadata.google.internal/computeMetadata/v1/", "file:///proc/self/environ", "file:///etc/passwd",
            "SECRETS"})
    void hostileArtifactUrlsAreRefusedBeforeAnyConnection(String template) throws IOException {
        Path secrets = Files.writeString(dir.resolve("secrets.env"), "CONVEYOR_TOKEN=x\n");
        try (Listener listener = new Listener("127.0.0.1")) {
            String url = template.replace("LISTENER", Integer.toString(listener.port())).replace("SECRETS", secrets
                    .toUri().toString());
            // Production defaults, plus file artifacts from a directory that does not hold the secrets.
            OutboundPolicy policy = OutboundPolicy.builder().schemes(List.of("https", "http", "file")).fileRoots(List
                    .of(Files.createDirectories(dir.resolve("artifacts")))).build();
            ArtifactFetcher fetcher = new ArtifactFetcher(HttpClient.newHttpClient(), 1024, Duration.ofSeconds(5),
                    List.of(dir), Map.of(), policy);

            assertThatThrownBy(() -> fetcher.fetch(new Artifact(url, "ab".repeat(32), null, null), Files
                    .createTempDirectory(dir, "w"))).isInstanceOfSatisfying(StageException.class, e -> {
                        assertThat(e.reason()).isIn("OUTBOUND_REFUSED", "ARTIFACT_URI_REFUSED");
                        assertThat(e.details()).containsEntry("field", "artifact.uri");
                        assertThat(e.getMessage()).startsWith("artifact.uri ").doesNotContain("CONVEYOR_TOKEN");
                    });
            assertThat(listener.accepted()).isZero();
        }
    }

    @Test
    void anAllowedHostThatRedirectsToARefusedAddressIsNotFollowed() throws IOException {
        try (Listener other = new Listener("127.0.0.2")) {
            server.createContext("/to-metadata", exchange -> {
                authorizations.add(exchange.getRequestURI().getPath());
                exchange.getResponseHeaders().add("Location", "http://169.254.169.254/latest/meta-data/");
                exchange.sendResponseHeaders(302, -1);
                exchange.close();
            });
            server.createContext("/to-loopback", exchange -> {
                authorizations.add(exchange.getRequestURI().getPath());
                exchange.getResponseHeaders().add("Location", "http://127.0.0.2:" + other.port() + "/q/metrics");
                exchange.sendResponseHeaders(301, -1);
                exchange.close();
            });
            // Only the artifact server's own address is allowed.
            OutboundPolicy policy = OutboundPolicy.builder().schemes(List.of("http")).allowedNetworks(List.of(
                    "127.0.0.1/32")).build();

            for (String path : List.of("/to-metadata", "/to-loopback")) {
                assertThatThrownBy(() -> fetcher(1024, policy).fetch(artifact(path, body), Files.createTempDirectory(
                        dir, "w"))).as(path).isInstanceOfSatisfying(OutboundRefused.class, e -> {
                            assertThat(e.field()).isEqualTo("artifact.uri");
                            assertThat(e.getMessage()).doesNotContain("t0ken");
                        });
            }
            assertThat(other.accepted()).isZero();
            // The allowed server was asked; the hop it pointed to was not.
            assertThat(authorizations).containsExactly("/to-metadata", "/to-loopback");
        }
    }

    @Test
    void aChecksumMismatchDoesNotDiscloseWhatWasFetched() throws IOException {
        Path fetched = Files.write(dir.resolve("fetched"), body);
        String actual = Artifacts.sha256(fetched);

        assertThatThrownBy(() -> fetcher(1024).fetch(artifact("/ok", "other".getBytes(StandardCharsets.UTF_8)),
                Files.createTempDirectory(dir, "w"))).isInstanceOfSatisfying(StageException.class, e -> {
                    assertThat(e.reason()).isEqualTo("CHECKSUM_MISMATCH");
                    assertThat(e.getMessage()).contains("a different digest").doesNotContain(actual);
                    assertThat(e.details().values()).doesNotContain(actual);
                    assertThat(e.details()).doesNotContainKey("actual");
                });
        assertThatThrownBy(() -> fetcher(1024).fetch(new Artifact(artifact("/ok", body).uri(), actual, 99L, null),
                Files.createTempDirectory(dir, "w"))).isInstanceOfSatisfying(StageException.class,
                        e -> assertThat(e.getMessage()).contains("99 bytes").doesNotContain(Integer.toString(
                                body.length) + " bytes"));
    }

    /** A TCP listener that counts the connections it accepts: any count above zero is a dial that should not be. */
    static final class Listener implements AutoCloseable {
        private final ServerSocket socket;
        private final AtomicInteger accepted = new AtomicInteger();

        Listener(String address) throws IOException {
            socket = new ServerSocket(0, 50, InetAddress.getByName(address));
            Thread acceptor = new Thread(() -> {
                while (!socket.isClosed()) {
                    try (Socket s = socket.accept()) {
                        accepted.incrementAndGet();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        int accepted() {
            return accepted.get();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private Artifact artifact(String path, byte[] expected) throws IOException {
        Path tmp = Files.write(Files.createTempFile(dir, "expected", ""), expected);
        return new Artifact("http://127.0.0.1:" + server.getAddress().getPort() + path, Artifacts.sha256(tmp), null,
                null);
    }
}
