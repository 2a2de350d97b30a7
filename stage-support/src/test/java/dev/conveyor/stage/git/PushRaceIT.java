package dev.conveyor.stage.git;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.dircache.DirCache;
import org.eclipse.jgit.dircache.DirCacheEditor;
import org.eclipse.jgit.dircache.DirCacheEntry;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.transport.PushResult;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.RemoteRefUpdate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.FailureKind;
import dev.conveyor.stage.StageException;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;

/** Fetch, re-apply, push again: against a real bare repository that another writer moves between fetch and push. */
class PushRaceIT {

    enum Reason {
        TEST_RACE
    }

    @TempDir
    Path dir;

    GitRepos repos;
    GitAccess access;
    RepoMirrors mirrors;

    @BeforeEach
    void open() {
        repos = GitRepos.at(dir.resolve("remotes"));
        access = GitAccess.create(GitCredentials.none());
        mirrors = new RepoMirrors(dir.resolve("mirrors"), access);
    }

    @AfterEach
    void close() {
        access.close();
        repos.close();
    }

    @Test
    void aPushThatLosesToAnotherWriterIsReappliedOnTheNewTipAndKeepsBothChanges() {
        BareRepo remote = repos.createBare("race-once");
        remote.seed(Map.of("README.md", "one"), "init");
        String url = remote.fileUrl();
        AtomicInteger fetches = new AtomicInteger();
        // The other writer pushes right after our first fetch: the worst moment.
        PushRace.Fetch racing = u -> {
            Repository fresh = mirrors.fetch(u);
            if (fetches.incrementAndGet() == 1) {
                remote.writer().file("theirs.txt", "theirs").message("docs: meanwhile").commit();
            }
            return fresh;
        };
        List<Integer> rounds = new ArrayList<>();
        PushRace race = new PushRace(mirrors, racing, new Backoff(5, Duration.ofMillis(1), Duration.ofMillis(5)),
                d -> {
                    // The backoff between rounds needs no real wait here.
                });

        String pushed = race.push(url, Reason.TEST_RACE, "branch main", (repo, round) -> {
            rounds.add(round);
            return addFileAndPush(repo, url, "ours.txt", "ours");
        });

        assertThat(rounds).containsExactly(1, 2);
        assertThat(remote.head("main")).contains(pushed);
        assertThat(remote.commits("main")).extracting(BareRepo.Commit::shortMessage)
                .containsExactly("add ours.txt", "docs: meanwhile", "init");
    }

    @Test
    void aWriterThatAlwaysWinsMakesATransientFailureAfterTheLastRound() {
        BareRepo remote = repos.createBare("race-always");
        remote.seed(Map.of("README.md", "one"), "init");
        String url = remote.fileUrl();
        PushRace.Fetch racing = u -> {
            Repository fresh = mirrors.fetch(u);
            remote.writer().file("theirs.txt", String.valueOf(System.nanoTime())).message("docs: again").commit();
            return fresh;
        };
        AtomicInteger rounds = new AtomicInteger();
        PushRace race = new PushRace(mirrors, racing, new Backoff(3, Duration.ZERO, Duration.ZERO), d -> {
        });

        assertThatThrownBy(() -> race.push(url, Reason.TEST_RACE, "branch main", (repo, round) -> {
            rounds.incrementAndGet();
            return addFileAndPush(repo, url, "ours.txt", "ours");
        })).isInstanceOfSatisfying(StageException.class, e -> {
            assertThat(e.kind()).isEqualTo(FailureKind.TRANSIENT);
            assertThat(e.reason()).isEqualTo("TEST_RACE");
            assertThat(e.getMessage()).contains("after 3 rounds");
        });
        assertThat(rounds).hasValue(3);
        assertThat(remote.commits("main")).extracting(BareRepo.Commit::shortMessage).doesNotContain("add ours.txt");
    }

    /** Commits {@code path} on the mirror's main and pushes it without force; empty when the push lost a race. */
    private Optional<String> addFileAndPush(Repository repo, String url, String path, String content)
            throws IOException {
        ObjectId tip = repo.resolve(Constants.R_HEADS + "main");
        ObjectId commitId;
        try (ObjectInserter inserter = repo.newObjectInserter(); RevWalk walk = new RevWalk(repo)) {
            RevCommit parent = walk.parseCommit(tip);
            DirCache index = DirCache.read(walk.getObjectReader(), parent.getTree());
            ObjectId blob = inserter.insert(Constants.OBJ_BLOB, content.getBytes(StandardCharsets.UTF_8));
            DirCacheEditor editor = index.editor();
            editor.add(new DirCacheEditor.PathEdit(path) {
                @Override
                public void apply(DirCacheEntry entry) {
                    entry.setFileMode(FileMode.REGULAR_FILE);
                    entry.setObjectId(blob);
                }
            });
            editor.finish();
            CommitBuilder commit = new CommitBuilder();
            commit.setTreeId(index.writeTree(inserter));
            commit.setParentId(parent);
            PersonIdent ident = new PersonIdent("Test", "test@conveyor.dev");
            commit.setAuthor(ident);
            commit.setCommitter(ident);
            commit.setMessage("add " + path + "\n");
            commitId = inserter.insert(commit);
            inserter.flush();
        }
        try (Git git = Git.wrap(repo)) {
            for (PushResult result : access.apply(git.push()).setRemote(url)
                    .setRefSpecs(new RefSpec(commitId.name() + ":refs/heads/main")).call()) {
                RemoteRefUpdate update = result.getRemoteUpdate("refs/heads/main");
                if (update != null && PushRace.lostRace(update)) {
                    return Optional.empty();
                }
            }
        } catch (GitAPIException e) {
            throw new IOException(e);
        }
        return Optional.of(commitId.name());
    }
}
