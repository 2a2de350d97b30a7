package dev.conveyor.notifier.service;

import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.github.tomakehurst.wiremock.WireMockServer;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.notifier.client.AppConfigReader;
import dev.conveyor.notifier.domain.AppNotifySettings;
import dev.conveyor.notifier.domain.ProviderKind;
import dev.conveyor.notifier.testing.Harness;
import dev.conveyor.notifier.testing.Runs;
import dev.conveyor.stage.config.ConveyorYaml;
import dev.conveyor.stage.config.InvalidConfigException;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** The app's own Slack channel and JIRA project, read from its {@code .conveyor.yaml} in a real git repository. */
class AppConfigTest {

    static WireMockServer wiremock;
    static GitRepos repos;
    static GitAccess git;

    @TempDir
    Path dir;
    NotifierService service;

    @BeforeAll
    static void start() {
        wiremock = new WireMockServer(options().dynamicPort());
        wiremock.start();
        repos = new GitRepos();
        git = GitAccess.create(GitCredentials.none());
    }

    @AfterAll
    static void stop() {
        wiremock.stop();
        repos.close();
        git.close();
    }

    @BeforeEach
    void stubs() {
        wiremock.resetAll();
        wiremock.stubFor(post(urlEqualTo("/slack/api/chat.postMessage"))
                .willReturn(okJson("{\"ok\":true,\"channel\":\"C9\",\"ts\":\"1.1\"}")));
        wiremock.stubFor(post(urlEqualTo("/slack/api/chat.update"))
                .willReturn(okJson("{\"ok\":true,\"channel\":\"C9\",\"ts\":\"1.1\"}")));
    }

    @AfterEach
    void close() {
        Harness.closeQuietly(service);
    }

    AppConfigReader reader() {
        return new AppConfigReader(new RepoMirrors(dir.resolve("mirrors"), git));
    }

    @Test
    void theAppsChannelAndProjectComeFromItsConveyorYamlAtTheRunsCommit() {
        BareRepo repo = repos.createBare("cart-" + System.nanoTime());
        String commit = repo.writer().file(".conveyor.yaml", "notify:\n  slack:\n    channel: \"#team-cart\"\n"
                + "  jira:\n    project: OPS\n").message("chore: notify settings").commit();
        service = Harness
                .start(Harness.settings(wiremock, dir.resolve("data"), Map.of("conveyor.notifier.jira.base-url",
                        "")), new SimpleMeterRegistry(), reader()::read);
        List<ConveyorEvent> run = Runs.delivery("cart", repo.fileUrl(), commit);

        service.accept(run.get(0), Runs.id(run.get(0)));
        service.accept(run.get(1), Runs.id(run.get(1)));
        await().atMost(Duration.ofSeconds(20)).until(() -> wiremock.getAllServeEvents().size() >= 2
                && Arrays.stream(ProviderKind.values()).allMatch(p -> service.backlog(p) == 0));

        wiremock.verify(1, postRequestedFor(urlEqualTo("/slack/api/chat.postMessage"))
                .withRequestBody(matchingJsonPath("$.channel", equalTo("#team-cart"))));
        // the app's project replaces the platform's list: SHOP keys in its commits are not its issues
        assertThat(AppNotifySettings.from(ConveyorYaml.parse("notify:\n  jira:\n    project: OPS\n")).jiraProject())
                .contains("OPS");
    }

    @Test
    void aRepositoryTheOutboundPolicyRefusesIsNeverDialledAndThePlatformSettingsApply() throws Exception {
        try (java.net.ServerSocket listener = new java.net.ServerSocket(0, 50, java.net.InetAddress
                .getLoopbackAddress())) {
            java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
            Thread acceptor = new Thread(() -> {
                while (!listener.isClosed()) {
                    try (java.net.Socket s = listener.accept()) {
                        accepted.incrementAndGet();
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            AppConfigReader restricted = new AppConfigReader(new RepoMirrors(dir.resolve("mirrors"), git.restrictedTo(
                    dev.conveyor.stage.net.OutboundPolicy.builder().schemes(List.of("https", "ssh", "git")).build(),
                    "repoUrl")));
            int port = listener.getLocalPort();

            for (String url : List.of("git://127.0.0.1:" + port + "/acme/shop.git", "git://localhost:" + port
                    + "/acme/shop.git", "ssh://-oProxyCommand=nc%20127.0.0.1%20" + port + "@localhost/acme/shop.git",
                    "file:///etc", "http://169.254.169.254/latest/")) {
                assertThat(restricted.read("shop", "r-1", url, "a".repeat(40))).as(url).isEqualTo(AppNotifySettings
                        .none());
            }
            assertThat(accepted).hasValue(0);
        }
    }

    @Test
    void aBrokenFileOrAnUnreachableRepositoryFallsBackToThePlatformChannel() {
        BareRepo repo = repos.createBare("typo-" + System.nanoTime());
        String commit = repo.writer().file(".conveyor.yaml", "notify:\n  slak:\n    channel: \"#x\"\n")
                .message("chore: typo").commit();

        assertThat(reader().read("typo", "r-1", repo.fileUrl(), commit)).isEqualTo(AppNotifySettings.none());
        assertThat(reader().read("gone", "r-2", repo.fileUrl() + "-missing", commit))
                .isEqualTo(AppNotifySettings.none());
        org.assertj.core.api.Assertions
                .assertThatThrownBy(() -> AppNotifySettings.from(ConveyorYaml.parse(
                        "notify:\n  slak:\n    channel: \"#x\"\n")))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("notify.slak");

        service = Harness
                .start(Harness.settings(wiremock, dir.resolve("data"), Map.of("conveyor.notifier.jira.base-url",
                        "")), new SimpleMeterRegistry(), reader()::read);
        List<ConveyorEvent> run = Runs.delivery("typo", repo.fileUrl(), commit);
        service.accept(run.get(0), Runs.id(run.get(0)));
        await().atMost(Duration.ofSeconds(20)).until(() -> wiremock.getAllServeEvents().size() >= 1
                && service.backlog(ProviderKind.SLACK) == 0);
        wiremock.verify(1, postRequestedFor(urlEqualTo("/slack/api/chat.postMessage"))
                .withRequestBody(matchingJsonPath("$.channel", equalTo("#deploys"))));
    }
}
