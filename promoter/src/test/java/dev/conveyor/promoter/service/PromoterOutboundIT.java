package dev.conveyor.promoter.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.conveyor.events.v1.PromotionMode;
import dev.conveyor.promoter.client.ChartPackager;
import dev.conveyor.promoter.client.GitCommitter;
import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.PushRace;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.stage.net.OutboundPolicy;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitServers;

/**
 * The promoter, wired as {@code PromoterBeans} wires it, dials the app repository (from the event) and the GitOps
 * repositories only if the outbound policy allows them; a refusal names the field and nothing reaches a listener.
 */
class PromoterOutboundIT {

    static GitServers git;
    static GitAccess shared;
    static Path dir;

    ServerSocket listener;
    final AtomicInteger accepted = new AtomicInteger();

    @BeforeAll
    static void start() {
        git = GitServers.start(false);
        shared = Fixtures.access();
        dir = Fixtures.tempDir("promoter-outbound");
    }

    @AfterAll
    static void stop() {
        shared.close();
        git.close();
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

    /** Only the git daemon the test runs is allowed, as the local stack allows only its own. */
    OutboundPolicy policy() {
        URI daemon = URI.create(git.daemon().url("x"));
        return OutboundPolicy.builder().schemes(List.of("git", "https", "ssh")).hosts(List.of(daemon.getHost() + ":"
                + daemon.getPort())).allowedNetworks(List.of(daemon.getHost() + "/32")).build();
    }

    PromotionService service(String name, String gitopsUrl) {
        Path own = dir.resolve(name);
        OutboundPolicy policy = policy();
        GitAccess gitops = shared.restrictedTo(policy, "gitopsRepo");
        RepoMirrors mirrors = new RepoMirrors(own.resolve("mirrors"), gitops);
        GitCommitter committer = new GitCommitter(new PushRace(mirrors, new Backoff(3, Duration.ofMillis(10),
                Duration.ofMillis(50))), mirrors, gitops, "Conveyor", "conveyor@conveyor.dev");
        return new PromotionService(mirrors.through(shared.restrictedTo(policy, "repoUrl")), new ChartPackager(),
                committer, null, new PromotionService.Settings(List.of(), List.of(Fixtures.target("staging",
                        gitopsUrl, "shop", PromotionMode.AUTO, "cart")), Set.of(), "main", "charts", own.resolve(
                                "work")),
                Clock.systemUTC());
    }

    @Test
    void aHostileAppRepositoryIsRefusedNamingRepoUrl() {
        int port = listener.getLocalPort();
        for (String url : List.of("git://127.0.0.1:" + port + "/shop/cart.git", "git://localhost:" + port
                + "/shop/cart.git", "ssh://-oProxyCommand=nc%20127.0.0.1%20" + port + "@localhost/shop/cart.git",
                "file:///etc", "http://169.254.169.254/latest/")) {
            assertThatThrownBy(() -> service("app-" + Math.abs(url.hashCode()), "git://example.invalid/g.git")
                    .promote(Fixtures.validated("cart", url, "a".repeat(40), "cart", "1.0.0"), "c")).as(url)
                    .isInstanceOfSatisfying(StageException.class, e -> {
                        assertThat(e.reason()).isEqualTo("OUTBOUND_REFUSED");
                        assertThat(e.details()).containsEntry("field", "repoUrl");
                    });
        }
        assertThat(accepted).hasValue(0);
    }

    @Test
    void aGitopsRepositoryTheStackDoesNotRunIsRefusedNamingGitopsRepo() {
        BareRepo app = git.repos().createBare("outbound/cart");
        String commit = Fixtures.seedApp(app, "cart", "blue");

        assertThatThrownBy(() -> service("gitops", "git://127.0.0.1:" + listener.getLocalPort() + "/team/gitops.git")
                .promote(Fixtures.validated("cart", git.daemon().url(app), commit, "cart", "1.0.0"), "c"))
                .isInstanceOfSatisfying(StageException.class, e -> {
                    assertThat(e.reason()).isEqualTo("OUTBOUND_REFUSED");
                    assertThat(e.details()).containsEntry("field", "gitopsRepo");
                });
        assertThat(accepted).hasValue(0);
    }

    @Test
    void anAllowedAppAndGitopsRepositoryArePromoted() {
        BareRepo app = git.repos().createBare("outbound-ok/cart");
        String commit = Fixtures.seedApp(app, "cart", "blue");
        BareRepo gitops = git.repos().createBare("outbound-ok/gitops");
        Fixtures.seedGitops(gitops, "cart");

        service("ok", git.daemon().url(gitops)).promote(Fixtures.validated("cart", git.daemon().url(app), commit,
                "cart", "1.4.0"), "c");

        assertThat(Fixtures.read(gitops, "main", "releases/helm/shop/cart.yaml").orElseThrow()).contains("1.4.0");
    }
}
