package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.client.SopsDecryptor;
import dev.conveyor.fluxsync.config.FluxSyncBeans;
import dev.conveyor.fluxsync.config.FluxSyncConfig;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.GitFailure;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitHttpServer;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Per-repository git credentials over the testkit's token-checking git HTTP server: the repository configured with
 * the right token syncs, the one with a wrong token fails alone with {@code AUTH_DENIED}, the token never in the
 * message; the shared credentials ({@code conveyor.git.*}) apply to repositories without their own.
 */
class RepoCredentialsIT {

    static final String TOKEN = "tok-right-7f3a";
    static final String WRONG = "tok-wrong-91cc";

    static KubernetesApiStandIn kube;
    static GitRepos repos;
    static GitHttpServer http;
    static Path work;
    static final List<GitAccess> created = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        kube = KubernetesApiStandIn.start();
        repos = new GitRepos();
        http = GitHttpServer.start(repos.root(), TOKEN);
        work = Files.createTempDirectory("flux-sync-creds");
    }

    @AfterAll
    static void stop() {
        created.forEach(GitAccess::close);
        http.close();
        repos.close();
        kube.close();
    }

    static FluxSyncConfig.Repo repo(String url, Optional<String> token) {
        return new FluxSyncConfig.Repo() {
            public String url() {
                return url;
            }

            public String branch() {
                return "main";
            }

            public String path() {
                return "/";
            }

            public Duration interval() {
                return Duration.ofMinutes(5);
            }

            public boolean prune() {
                return true;
            }

            public boolean suspend() {
                return false;
            }

            public Optional<String> webhookSecret() {
                return Optional.empty();
            }

            public Optional<Path> sshPrivateKey() {
                return Optional.empty();
            }

            public Optional<Path> knownHosts() {
                return Optional.empty();
            }

            public Optional<String> httpsToken() {
                return token;
            }

            public Optional<String> httpsUsername() {
                return Optional.empty();
            }
        };
    }

    @Test
    void eachRepositoryUsesItsOwnTokenAndAWrongOneFailsOnlyThatRepository() throws Exception {
        BareRepo good = repos.createBare("team-a");
        good.writer().file("releases/manifests/team-a/cm.yaml", SeedRepo.configMap("settings", "a")).message("a")
                .commit();
        BareRepo bad = repos.createBare("team-b");
        bad.writer().file("releases/manifests/team-b/cm.yaml", SeedRepo.configMap("settings", "b")).message("b")
                .commit();
        BareRepo sharedRepo = repos.createBare("team-c");
        sharedRepo.writer().file("releases/manifests/team-c/cm.yaml", SeedRepo.configMap("settings", "c")).message(
                "c").commit();
        Map<String, FluxSyncConfig.Repo> config = new LinkedHashMap<>();
        config.put("team-a", repo(http.url(good), Optional.of(TOKEN)));
        config.put("team-b", repo(http.url(bad), Optional.of(WRONG)));
        config.put("team-c", repo(http.url(sharedRepo), Optional.empty()));
        // the shared credentials carry the right token: team-c, without its own, uses them
        GitCredentials sharedCredentials = new GitCredentials(Optional.empty(), Optional.empty(), true,
                "x-access-token", Optional.of(TOKEN));
        GitAccess sharedAccess = GitAccess.create(sharedCredentials);
        created.add(sharedAccess);
        RepoMirrors shared = new RepoMirrors(work.resolve("mirrors"), sharedAccess);
        RepoReconciler reconciler = new RepoReconciler(shared, FluxSyncBeans.mirrorsByRepo(work.resolve("mirrors"),
                shared, sharedCredentials, config, created), new KubeCluster(kube.newClient(), "conveyor-flux-sync"),
                new ChartRenderer(work.resolve("work")), new RepoReconciler.Settings("charts", "conveyor", Duration
                        .ofMillis(100), Duration.ofMillis(50), work.resolve("work")),
                new SimpleMeterRegistry(), Clock.systemUTC(), new SopsDecryptor(List::of));
        List<RepoSpec> specs = config.entrySet().stream().map(e -> new RepoSpec(e.getKey(), e.getValue().url(),
                "main", "", Duration.ofMinutes(5), true, false)).toList();
        FluxSyncService service = new FluxSyncService(reconciler, specs, Clock.systemUTC());

        assertThatThrownBy(() -> service.syncRepo(specs.get(1))).isInstanceOfSatisfying(StageException.class,
                e -> {
                    assertThat(e.reason()).isEqualTo(GitFailure.AUTH_DENIED.name());
                    assertThat(e.getMessage()).doesNotContain(WRONG).doesNotContain(TOKEN);
                });
        service.syncRepo(specs.get(0));
        service.syncRepo(specs.get(2));

        assertThat(kube.client().configMaps().inNamespace("team-a").withName("settings").get().getData())
                .containsEntry("value", "a");
        assertThat(kube.client().configMaps().inNamespace("team-c").withName("settings").get().getData())
                .containsEntry("value", "c");
        assertThat(kube.client().configMaps().inNamespace("team-b").withName("settings").get()).isNull();
        assertThat(reconciler.revision("team-b")).isNull();
    }
}
