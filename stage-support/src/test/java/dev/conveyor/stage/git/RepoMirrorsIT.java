package dev.conveyor.stage.git;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.Optional;

import org.eclipse.jgit.lib.Repository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.conveyor.stage.FailureKind;
import dev.conveyor.stage.StageException;
import dev.conveyor.testkit.Ports;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitServers;
import dev.conveyor.testkit.git.SshKeys;

class RepoMirrorsIT {

    static GitServers servers;

    @TempDir
    Path cache;

    @BeforeAll
    static void start() {
        servers = GitServers.start(true);
    }

    @AfterAll
    static void stop() {
        servers.close();
    }

    @Test
    void aRefLockLeftByAKilledProcessDoesNotBlockTheNextOne() throws Exception {
        BareRepo remote = servers.repos().createBare("mirror-stale-lock");
        remote.seed(Map.of("README.md", "one"), "first");
        try (GitAccess access = GitAccess.create(GitCredentials.none())) {
            String url = servers.daemon().url(remote);
            new RepoMirrors(cache, access).fetch(url).close();
            // The process died while git updated refs/heads/main: its lock file stays behind.
            Path lock = new RepoMirrors(cache, access).mirrorDir(url).resolve("refs/heads/main.lock");
            Files.createDirectories(lock.getParent());
            Files.writeString(lock, "");
            // ... before this process started.
            Files.setLastModifiedTime(lock, FileTime.fromMillis(
                    java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime() - 60_000));
            String second = remote.writer().file("README.md", "two").message("second").commit();

            try (Repository repo = new RepoMirrors(cache, access).fetch(url)) {
                assertThat(repo.resolve("refs/heads/main").name()).isEqualTo(second);
            }
            assertThat(lock).doesNotExist();
        }
    }

    @Test
    void aLockTakenSinceThisProcessStartedBelongsToALiveWriterAndIsLeftAlone() throws Exception {
        BareRepo remote = servers.repos().createBare("mirror-live-lock");
        remote.seed(Map.of("README.md", "one"), "first");
        try (GitAccess access = GitAccess.create(GitCredentials.none())) {
            String url = servers.daemon().url(remote);
            new RepoMirrors(cache, access).fetch(url).close();
            // Another instance over the same directory (or JGit's auto-gc) is writing right now.
            Path lock = new RepoMirrors(cache, access).mirrorDir(url).resolve("refs/heads/live-writer.lock");
            Files.writeString(lock, "");

            new RepoMirrors(cache, access).fetch(url).close();

            assertThat(lock).exists();
        }
    }

    @Test
    void mirrorsFetchOverGitDaemonAndSeeNewCommitsAndTags() throws Exception {
        BareRepo remote = servers.repos().createBare("mirror-daemon");
        String first = remote.seed(Map.of("README.md", "one"), "first");
        try (GitAccess access = GitAccess.create(GitCredentials.none())) {
            RepoMirrors mirrors = new RepoMirrors(cache, access);
            String url = servers.daemon().url(remote);
            try (Repository repo = mirrors.fetch(url)) {
                assertThat(repo.resolve("refs/heads/main").name()).isEqualTo(first);
            }
            String second = remote.writer().file("README.md", "two").message("second").annotatedTag("v1.0.0", "rel")
                    .commit();
            try (Repository repo = mirrors.fetch(url)) {
                assertThat(repo.resolve("refs/heads/main").name()).isEqualTo(second);
                assertThat(repo.resolve("refs/tags/v1.0.0^{commit}").name()).isEqualTo(second);
            }
            try (var dirs = Files.list(cache)) {
                assertThat(dirs).hasSize(1);
            }
        }
    }

    @Test
    void mirrorsFetchOverSshWithTheConfiguredKeyAndKnownHosts() throws Exception {
        BareRepo remote = servers.repos().createBare("mirror-ssh");
        String head = remote.seed(Map.of("a.txt", "a"), "init");
        GitCredentials credentials = new GitCredentials(Optional.of(servers.ssh().privateKey()),
                Optional.of(servers.ssh().knownHosts()), true, "x-access-token", Optional.empty());
        try (GitAccess access = GitAccess.create(credentials)) {
            try (Repository repo = new RepoMirrors(cache, access).fetch(servers.ssh().url(remote))) {
                assertThat(repo.resolve("refs/heads/main").name()).isEqualTo(head);
            }
        }
    }

    @Test
    void anUnknownKeyIsAuthDeniedAndTerminal(@TempDir Path keys) {
        BareRepo remote = servers.repos().createBare("mirror-denied");
        remote.seed(Map.of("a.txt", "a"), "init");
        SshKeys.KeyPair stranger = SshKeys.generate(keys.resolve("stranger"), "stranger");
        GitCredentials credentials = new GitCredentials(Optional.of(stranger.privateKey()),
                Optional.of(servers.ssh().knownHosts()), true, "x-access-token", Optional.empty());
        try (GitAccess access = GitAccess.create(credentials)) {
            assertThatThrownBy(() -> new RepoMirrors(cache, access).fetch(servers.ssh().url(remote)))
                    .isInstanceOfSatisfying(StageException.class, e -> {
                        assertThat(e.reason()).isEqualTo("AUTH_DENIED");
                        assertThat(e.kind()).isEqualTo(FailureKind.TERMINAL);
                    });
        }
    }

    @Test
    void anUntrustedHostKeyIsRejectedAndTerminal(@TempDir Path dir) throws Exception {
        BareRepo remote = servers.repos().createBare("mirror-hostkey");
        remote.seed(Map.of("a.txt", "a"), "init");
        Path emptyKnownHosts = Files.writeString(dir.resolve("known_hosts"), "");
        GitCredentials credentials = new GitCredentials(Optional.of(servers.ssh().privateKey()),
                Optional.of(emptyKnownHosts), true, "x-access-token", Optional.empty());
        try (GitAccess access = GitAccess.create(credentials)) {
            assertThatThrownBy(() -> new RepoMirrors(cache, access).fetch(servers.ssh().url(remote)))
                    .isInstanceOfSatisfying(StageException.class,
                            e -> assertThat(e.reason()).isEqualTo("HOST_KEY_REJECTED"));
        }
    }

    @Test
    void anUnreachableRemoteIsATransientNetworkFailure() {
        try (GitAccess access = GitAccess.create(GitCredentials.none())) {
            String url = "git://127.0.0.1:" + Ports.free() + "/nothing.git";
            assertThatThrownBy(() -> new RepoMirrors(cache, access).fetch(url))
                    .isInstanceOfSatisfying(StageException.class, e -> {
                        assertThat(e.reason()).isEqualTo("NETWORK");
                        assertThat(e.kind()).isEqualTo(FailureKind.TRANSIENT);
                    });
        }
    }

    @Test
    void aMissingRepositoryIsTerminal() {
        try (GitAccess access = GitAccess.create(GitCredentials.none())) {
            String url = servers.daemon().baseUrl() + "does-not-exist.git";
            assertThatThrownBy(() -> new RepoMirrors(cache, access).fetch(url))
                    .isInstanceOfSatisfying(StageException.class,
                            e -> assertThat(e.reason()).isEqualTo("REPO_NOT_FOUND"));
        }
    }
}
