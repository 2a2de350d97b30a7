package dev.conveyor.versioner.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import org.eclipse.jgit.lib.Repository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.conveyor.events.v1.Artifact;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.BumpReason;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.PushRace;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitServers;
import dev.conveyor.versioner.client.TagPublisher;
import dev.conveyor.versioner.domain.SemVer;

/** Tagging over real remotes: git:// and SSH, replays, races with another tagger, successive merges. */
class VersionerRemotesIT {

    static GitServers servers;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        servers = GitServers.start(true);
    }

    @AfterAll
    static void stop() {
        servers.close();
    }

    @Test
    void tagsArePushedOverGitDaemonAndAppearInAFreshClone() throws Exception {
        BareRepo remote = servers.repos().createBare("remotes-daemon");
        remote.writer().file("a", "1").message("init").tag("v1.0.0").commit();
        String head = remote.writer().file("a", "2").message("feat: x").commit();
        try (GitAccess access = GitAccess.create(GitCredentials.none())) {
            VersionResolved resolved = service(access).resolve(build(servers.daemon().url(remote), head), null);
            assertThat(resolved.tag()).isEqualTo("v1.1.0");
        }
        assertTaggedInFreshClone(remote, "v1.1.0", head);
    }

    @Test
    void tagsArePushedOverSshWithHostKeyChecking() throws Exception {
        BareRepo remote = servers.repos().createBare("remotes-ssh");
        String head = remote.writer().file("a", "1").message("init").commit();
        GitCredentials ssh = new GitCredentials(Optional.of(servers.ssh().privateKey()),
                Optional.of(servers.ssh().knownHosts()), true, "x-access-token", Optional.empty());
        try (GitAccess access = GitAccess.create(ssh)) {
            VersionResolved resolved = service(access).resolve(build(servers.ssh().url(remote), head), null);
            assertThat(resolved.version()).isEqualTo("0.1.0");
            assertThat(resolved.taggedNow()).isTrue();
        }
        assertTaggedInFreshClone(remote, "v0.1.0", head);
    }

    @Test
    void theSameBuildTwiceMakesExactlyOneTag() {
        BareRepo remote = servers.repos().createBare("remotes-replay");
        remote.writer().file("a", "1").message("init").tag("v2.0.0").commit();
        String head = remote.writer().file("a", "2").message("fix: y").commit();
        try (GitAccess access = GitAccess.create(GitCredentials.none())) {
            VersionService service = service(access);
            BuildSucceeded build = build(servers.daemon().url(remote), head);
            VersionResolved first = service.resolve(build, "ce-1");
            VersionResolved second = service.resolve(build, "ce-1");
            assertThat(first.version()).isEqualTo("2.0.1");
            assertThat(first.taggedNow()).isTrue();
            assertThat(second.version()).isEqualTo("2.0.1");
            assertThat(second.taggedNow()).isFalse();
            assertThat(second.bump()).isEqualTo(BumpReason.EXISTING_TAG);
        }
        assertThat(remote.tags()).extracting(BareRepo.Tag::name).containsExactlyInAnyOrder("v2.0.0", "v2.0.1");
    }

    @Test
    void aTagPushedByOthersOnTheSameCommitIsAdoptedNotDuplicated() {
        BareRepo remote = servers.repos().createBare("remotes-race-same");
        remote.writer().file("a", "1").message("init").tag("v1.0.0").commit();
        String head = remote.writer().file("a", "2").message("feat: z").commit();
        AtomicBoolean raced = new AtomicBoolean();
        try (GitAccess access = GitAccess.create(GitCredentials.none())) {
            // Between our computation and our push, someone tags the same commit with the same version.
            VersionResolved resolved = service(access, url -> {
                if (raced.compareAndSet(false, true)) {
                    tagExisting(remote, "v1.1.0", head);
                }
            }).resolve(build(servers.daemon().url(remote), head), null);
            assertThat(resolved.version()).isEqualTo("1.1.0");
            assertThat(resolved.taggedNow()).isFalse();
            assertThat(resolved.bump()).isEqualTo(BumpReason.EXISTING_TAG);
        }
        assertThat(raced).isTrue();
        assertThat(remote.tags()).extracting(BareRepo.Tag::name).containsExactlyInAnyOrder("v1.0.0", "v1.1.0");
    }

    @Test
    void aVersionTakenByOthersOnAnotherCommitIsNotReused() {
        BareRepo remote = servers.repos().createBare("remotes-race-other");
        remote.writer().file("a", "1").message("init").tag("v1.0.0").commit();
        String side = remote.writer().branch("side").file("s", "1").message("fix: side").commit();
        String head = remote.writer().file("a", "2").message("fix: main").commit();
        AtomicBoolean raced = new AtomicBoolean();
        try (GitAccess access = GitAccess.create(GitCredentials.none())) {
            VersionResolved resolved = service(access, url -> {
                if (raced.compareAndSet(false, true)) {
                    tagExisting(remote, "v1.0.1", side);
                }
            }).resolve(build(servers.daemon().url(remote), head), null);
            assertThat(resolved.version()).isEqualTo("1.0.2");
            assertThat(resolved.taggedNow()).isTrue();
        }
        assertThat(remote.tags()).filteredOn(t -> t.name().equals("v1.0.1")).singleElement()
                .satisfies(t -> assertThat(t.commitId()).isEqualTo(side));
        assertThat(remote.tags()).filteredOn(t -> t.name().equals("v1.0.2")).singleElement()
                .satisfies(t -> assertThat(t.commitId()).isEqualTo(head));
    }

    @Test
    void successiveCommitsGetIncreasingVersionsInCommitOrder() {
        BareRepo remote = servers.repos().createBare("remotes-successive");
        remote.writer().file("a", "1").message("init").tag("v3.0.0").commit();
        String first = remote.writer().file("a", "2").message("fix: one").commit();
        String second = remote.writer().file("a", "3").message("feat: two").commit();
        try (GitAccess access = GitAccess.create(GitCredentials.none())) {
            VersionService service = service(access);
            String url = servers.daemon().url(remote);
            VersionResolved one = service.resolve(build(url, first), null);
            VersionResolved two = service.resolve(build(url, second), null);
            assertThat(one.version()).isEqualTo("3.0.1");
            assertThat(two.version()).isEqualTo("3.1.0");
            assertThat(two.previousVersion()).isEqualTo("3.0.1");
            assertThat(two.changes()).containsExactly("feat: two");
        }
    }

    @Test
    void tagsArePushedOverSmartHttpWithATokenAndAWrongTokenIsAuthDenied() throws Exception {
        BareRepo remote = servers.repos().createBare("remotes-http");
        String head = remote.writer().file("a", "1").message("init").tag("v4.1.0").commit();
        head = remote.writer().file("a", "2").message("fix: over https").commit();
        try (var http = dev.conveyor.testkit.git.GitHttpServer.start(servers.repos().root(), "glpat-right")) {
            String url = http.url(remote);
            try (GitAccess access = GitAccess.create(new GitCredentials(Optional.empty(), Optional.empty(), true,
                    "oauth2", Optional.of("glpat-right")))) {
                VersionResolved resolved = service(access).resolve(build(url, head), null);
                assertThat(resolved.tag()).isEqualTo("v4.1.1");
                assertThat(resolved.taggedNow()).isTrue();
            }
            String commit = head;
            try (GitAccess wrong = GitAccess.create(new GitCredentials(Optional.empty(), Optional.empty(), true,
                    "oauth2", Optional.of("glpat-wrong")))) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> new VersionService(
                        new PushRace(new RepoMirrors(tmp.resolve("other-mirrors"), wrong), Backoff.none()),
                        new TagPublisher(wrong), "v", SemVer.of(0, 1, 0), "Conveyor", "conveyor@example.com",
                        Clock.systemUTC()).resolve(build(url, commit), null))
                        .isInstanceOfSatisfying(dev.conveyor.stage.StageException.class, e -> {
                            assertThat(e.reason()).isEqualTo("AUTH_DENIED");
                            assertThat(e.getMessage()).doesNotContain("glpat-wrong");
                        });
            }
        }
        assertTaggedInFreshClone(remote, "v4.1.1", head);
    }

    @Test
    void credentialsInTheRepositoryUrlNeverReachTheFailure() {
        String url = "https://bot:ghp_supersecret@127.0.0.1:" + dev.conveyor.testkit.Ports.free() + "/acme/app.git";
        try (GitAccess access = GitAccess.create(new GitCredentials(Optional.empty(), Optional.empty(), true,
                "x-access-token", Optional.of("glpat-alsosecret")))) {
            org.assertj.core.api.Assertions
                    .assertThatThrownBy(() -> service(access).resolve(build(url, "0".repeat(40)), null))
                    .isInstanceOfSatisfying(dev.conveyor.stage.StageException.class, e -> {
                        assertThat(e.reason()).isEqualTo("NETWORK");
                        assertThat(e.getMessage() + e.details()).contains("https://127.0.0.1:")
                                .doesNotContain("supersecret").doesNotContain("alsosecret").doesNotContain("bot:");
                    });
        }
    }

    private static void tagExisting(BareRepo remote, String tag, String commit) {
        try (var repo = remote.open(); var git = org.eclipse.jgit.api.Git.wrap(repo)) {
            var walk = new org.eclipse.jgit.revwalk.RevWalk(repo);
            git.tag().setName(tag).setObjectId(walk.parseCommit(repo.resolve(commit))).setAnnotated(true)
                    .setMessage("someone else").call();
            walk.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void assertTaggedInFreshClone(BareRepo remote, String tag, String commit) throws Exception {
        Path clone = remote.cloneTo(tmp.resolve("fresh-" + remote.name()));
        try (var git = org.eclipse.jgit.api.Git.open(clone.toFile())) {
            assertThat(git.getRepository().resolve("refs/tags/" + tag + "^{commit}").name()).isEqualTo(commit);
        }
    }

    private VersionService service(GitAccess access) {
        return service(access, url -> {
        });
    }

    /** A service whose every fetch of the remote is followed by {@code afterFetch}: another tagger's moment. */
    private VersionService service(GitAccess access, Consumer<String> afterFetch) {
        RepoMirrors mirrors = new RepoMirrors(tmp.resolve("mirrors"), access);
        PushRace race = new PushRace(mirrors, url -> {
            Repository fresh = mirrors.fetch(url);
            afterFetch.accept(url);
            return fresh;
        }, new Backoff(5, Duration.ZERO, Duration.ZERO), d -> {
        });
        return new VersionService(race, new TagPublisher(access), "v", SemVer.of(0, 1, 0), "Conveyor",
                "conveyor@example.com", Clock.systemUTC());
    }

    private static BuildSucceeded build(String url, String commit) {
        return new BuildSucceeded(PipelineRun.start("shop", url, commit, "main", null, Flow.CD), Instant.now(), null,
                "https://jenkins.example.com/1/", new Artifact("file:///a.jar", "0".repeat(64), null, null), null,
                null);
    }
}
