package dev.conveyor.manifests.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.manifests.client.HelmRenderer;
import dev.conveyor.manifests.client.ManifestsCommitter;
import dev.conveyor.manifests.domain.ManifestParser;
import dev.conveyor.manifests.domain.SecretRedactor;
import dev.conveyor.manifests.domain.ValidationSettings;
import dev.conveyor.manifests.domain.schema.BuiltinSchemas;
import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.FailureKind;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.PushRace;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.stage.net.OutboundPolicy;

/**
 * The renderer dials an app repository only if the outbound policy allows it (wired as
 * {@code ManifestRendererBeans.renderService} wires it): hostile repoUrls end in a terminal {@code OUTBOUND_REFUSED}
 * naming {@code repoUrl}, and nothing reaches a listener on loopback.
 */
class RenderOutboundIT {

    @TempDir
    Path tmp;

    ServerSocket listener;
    final AtomicInteger accepted = new AtomicInteger();

    @BeforeEach
    void listen() throws IOException {
        listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            while (!listener.isClosed()) {
                try (Socket s = listener.accept()) {
                    accepted.incrementAndGet();
                } catch (IOException e) {
                    return;
                }
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
    }

    @AfterEach
    void close() throws IOException {
        listener.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"file:///etc", "file:///proc/self/environ", "http://169.254.169.254/x",
            "ssh://-oProxyCommand=nc%20127.0.0.1%20PORT@localhost:PORT/r", "git@localhost:--upload-pack=x",
            "git://127.0.0.1:PORT/acme/shop.git", "https://localhost:PORT/acme/shop.git"})
    void hostileRepoUrlsAreRefusedBeforeAnyConnection(String template) {
        String url = template.replace("PORT", Integer.toString(listener.getLocalPort()));
        OutboundPolicy policy = OutboundPolicy.builder().schemes(List.of("https", "ssh", "git", "file")).fileRoots(
                List.of(tmp.resolve("repos"))).build();
        try (GitAccess shared = GitAccess.create(GitCredentials.none())) {
            RenderService service = service(shared.restrictedTo(policy, "repoUrl"));

            assertThatThrownBy(() -> service.render(pushed(url), null)).isInstanceOfSatisfying(StageException.class,
                    e -> {
                        assertThat(e.reason()).isEqualTo("OUTBOUND_REFUSED");
                        assertThat(e.kind()).isEqualTo(FailureKind.TERMINAL);
                        assertThat(e.details()).containsEntry("field", "repoUrl");
                        assertThat(e.getMessage()).startsWith("repoUrl ");
                    });
        }
        assertThat(accepted).hasValue(0);
    }

    private RenderService service(GitAccess access) {
        RenderSettings settings = new RenderSettings(tmp.resolve("work"), "1.32", "default", "main", "manifests",
                ValidationSettings.strictDefaults(), new ManifestParser.Limits(1 << 20, 50, 100_000, 64), false,
                20_000, 50, 1 << 20, 1000, "Conveyor", "conveyor@conveyor.dev");
        RepoMirrors mirrors = new RepoMirrors(tmp.resolve("mirrors"), access);
        return new RenderService(mirrors, new HelmRenderer(), new ManifestsCommitter(access), new SecretRedactor(
                "a test redaction key of some length".getBytes(StandardCharsets.UTF_8), List.of("Secret")),
                BuiltinSchemas.load("1.32"), List.of(), settings, Clock.systemUTC(), new PushRace(mirrors,
                        new Backoff(2, Duration.ZERO, Duration.ZERO)));
    }

    private static ImagePushed pushed(String url) {
        return new ImagePushed(PipelineRun.start("shop", url, "a".repeat(40), "main", null, Flow.CD), Instant.now(),
                null, "1.0.0", "registry.example.com/team/shop", List.of("1.0.0"), "sha256:" + "ab".repeat(32), 1);
    }
}
