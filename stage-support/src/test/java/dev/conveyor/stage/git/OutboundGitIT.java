package dev.conveyor.stage.git;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.eclipse.jgit.lib.Repository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.conveyor.stage.net.OutboundPolicy;
import dev.conveyor.stage.net.OutboundRefused;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitServers;

/** A restricted {@link GitAccess} checks each remote where JGit connects: nothing reaches a refused listener. */
class OutboundGitIT {

    static GitServers servers;

    @TempDir
    Path cache;

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
    @ValueSource(strings = {"git://localhost:PORT/acme/shop.git", "git://127.0.0.1:PORT/acme/shop.git",
            "ssh://-oProxyCommand=nc%20127.0.0.1%20PORT@localhost:PORT/acme/shop.git",
            "ssh://git@127.0.0.1:PORT/--upload-pack=x", "git@localhost:--upload-pack=x", "file:///etc",
            "/proc/self/environ"})
    void aRefusedRemoteIsNeverDialled(String template) {
        String url = template.replace("PORT", Integer.toString(listener.getLocalPort()));
        OutboundPolicy policy = OutboundPolicy.builder().schemes(List.of("git", "ssh", "https", "file")).build();
        try (GitAccess access = GitAccess.create(GitCredentials.none())) {
            RepoMirrors mirrors = new RepoMirrors(cache, access.restrictedTo(policy));

            assertThatThrownBy(() -> mirrors.fetch(url).close()).isInstanceOfSatisfying(OutboundRefused.class,
                    e -> assertThat(e.field()).isEqualTo(GitAccess.REMOTE_FIELD));
        }
        assertThat(accepted).hasValue(0);
    }

    @Test
    void anAllowedNetworkIsFetched() throws Exception {
        BareRepo remote = servers.repos().createBare("outbound-allowed");
        String head = remote.seed(Map.of("README.md", "one"), "first");
        OutboundPolicy policy = OutboundPolicy.builder().schemes(List.of("git")).allowedNetworks(List.of(
                "127.0.0.0/8", "::1/128")).build();
        try (GitAccess access = GitAccess.create(GitCredentials.none());
                Repository repo = new RepoMirrors(cache, access.restrictedTo(policy)).fetch(servers.daemon().url(
                        remote))) {
            assertThat(repo.resolve("refs/heads/main").name()).isEqualTo(head);
            assertThat(repo.getConfig().getString("http", null, "followRedirects")).isEqualTo("false");
        }
    }
}
