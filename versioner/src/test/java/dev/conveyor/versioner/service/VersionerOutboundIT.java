package dev.conveyor.versioner.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.conveyor.events.v1.Artifact;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.FailureKind;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.PushRace;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.stage.net.OutboundPolicy;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitServers;
import dev.conveyor.versioner.client.TagPublisher;
import dev.conveyor.versioner.domain.SemVer;

/**
 * The versioner dials an app repository only if the outbound policy allows it: the hostile repoUrls of issue 16 are
 * refused naming {@code repoUrl}, and nothing reaches a listener on loopback.
 */
class VersionerOutboundIT {

    static GitServers servers;

    @TempDir
    Path tmp;

    ServerSocket listener;
    final AtomicInteger accepted = new AtomicInteger();

    @BeforeAll
    static void start() {
        servers = GitServers.start(false);
    }

    @AfterAll
    static void stop() {
        servers.close();
    }

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
    @ValueSource(strings = {"file:///etc", "file:///proc/self/environ", "SECRETS", "http://169.254.169.254/latest/",
            "https://169.254.169.254/latest/meta-data/",
            "ssh://-oProxyCommand=nc%20127.0.0.1%20PORT@localhost:PORT/acme/shop.git",
            "git@localhost:--upload-pack=nc%20127.0.0.1%20PORT", "ext::sh -c nc% 127.0.0.1% PORT",
            "git://localhost:PORT/acme/shop.git", "https://localhost:PORT/acme/shop.git"})
    void hostileRepoUrlsAreRefusedBeforeAnyConnection(String template) throws IOException {
        Path secrets = Files.writeString(tmp.resolve("secrets.env"), "CONVEYOR_TOKEN=x\n");
        String url = template.replace("PORT", Integer.toString(listener.getLocalPort())).replace("SECRETS", secrets
                .toUri().toString());
        // File repositories only under the data directory's repos, as the local stack configures it.
        OutboundPolicy policy = OutboundPolicy.builder().schemes(List.of("https", "ssh", "git", "file")).fileRoots(
                List.of(Files.createDirectories(tmp.resolve("repos")))).build();
        try (GitAccess shared = GitAccess.create(GitCredentials.none())) {
            GitAccess access = shared.restrictedTo(policy, "repoUrl");

            assertThatThrownBy(() -> service(access).resolve(build(url), null)).isInstanceOfSatisfying(
                    StageException.class, e -> {
                        assertThat(e.reason()).isEqualTo("OUTBOUND_REFUSED");
                        assertThat(e.kind()).isEqualTo(FailureKind.TERMINAL);
                        assertThat(e.details()).containsEntry("field", "repoUrl");
                        assertThat(e.getMessage()).startsWith("repoUrl ").doesNotContain("CONVEYOR_TOKEN");
                    });
        }
        assertThat(accepted).hasValue(0);
    }

    @Test
    void anAllowedRepositoryIsTaggedThroughThePolicy() throws Exception {
        BareRepo remote = servers.repos().createBare("outbound-allowed");
        remote.writer().file("a", "1").message("init").tag("v1.0.0").commit();
        String head = remote.writer().file("a", "2").message("feat: x").commit();
        OutboundPolicy policy = OutboundPolicy.builder().schemes(List.of("git")).allowedNetworks(List.of(
                "127.0.0.0/8", "::1/128")).build();
        try (GitAccess shared = GitAccess.create(GitCredentials.none())) {
            GitAccess access = shared.restrictedTo(policy, "repoUrl");
            BuildSucceeded build = new BuildSucceeded(PipelineRun.start("shop", servers.daemon().url(remote), head,
                    "main", null, Flow.CD), Instant.now(), null, "https://jenkins.example.com/1/",
                    new Artifact(
                            "file:///a.jar", "0".repeat(64), null, null),
                    null, null);

            assertThat(service(access).resolve(build, null).tag()).isEqualTo("v1.1.0");
        }
        try (org.eclipse.jgit.lib.Repository repo = remote.open()) {
            assertThat(repo.resolve("refs/tags/v1.1.0")).isNotNull();
        }
    }

    private VersionService service(GitAccess access) {
        RepoMirrors mirrors = new RepoMirrors(tmp.resolve("mirrors"), access);
        return new VersionService(new PushRace(mirrors, new Backoff(2, Duration.ZERO, Duration.ZERO)),
                new TagPublisher(access), "v", SemVer.of(0, 1, 0), "Conveyor", "conveyor@example.com", Clock
                        .systemUTC());
    }

    private static BuildSucceeded build(String url) {
        return new BuildSucceeded(PipelineRun.start("shop", url, "a".repeat(40), "main", null, Flow.CD), Instant
                .now(), null, "https://jenkins.example.com/1/",
                new Artifact("file:///a.jar", "0".repeat(64), null,
                        null),
                null, null);
    }
}
