package dev.conveyor.testkit.git;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

import org.eclipse.jgit.errors.RepositoryNotFoundException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.Repository;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Repository creation, seeding and read helpers, on the file system only. */
class GitReposTest {

    private final GitRepos repos = new GitRepos();

    @TempDir
    Path work;

    @AfterEach
    void close() {
        repos.close();
    }

    @Test
    void bareRepositoriesStartOnMain() throws Exception {
        BareRepo repo = repos.createBare("team/app");

        assertThat(repo.path()).isEqualTo(repos.root().resolve("team/app.git"));
        assertThat(repo.fileUrl()).isEqualTo("file://" + repos.root().resolve("team/app.git"));
        try (Repository db = repo.open()) {
            assertThat(db.isBare()).isTrue();
            assertThat(db.exactRef(Constants.HEAD).getTarget().getName()).isEqualTo("refs/heads/main");
        }
        assertThat(repo.commits()).isEmpty();
        assertThat(repo.head("main")).isEmpty();
    }

    @Test
    void writerCommitsFilesAndTagsReproducibly() {
        Instant fixed = Instant.parse("2024-01-02T03:04:05Z");
        BareRepo first = repos.createBare("first");
        BareRepo second = repos.createBare("second");

        String a = first.writer().file("a.txt", "A\n").file("dir/b.txt", "B\n").message("one").at(fixed).tag("light")
                .annotatedTag("v1", "version one").commit();
        String b = second.writer().file("a.txt", "A\n").file("dir/b.txt", "B\n").message("one").at(fixed).commit();
        String next = first.writer().delete("a.txt").file("dir/b.txt", "B2\n").message("two").at(fixed).commit();

        // Same content, identity and time give the same id: tests can hard-code expectations if they want.
        assertThat(a).isEqualTo(b);
        assertThat(first.commits()).extracting(BareRepo.Commit::id).containsExactly(next, a);
        assertThat(first.commits().get(1)).isEqualTo(new BareRepo.Commit(a, "one", "Conveyor Testkit",
                "testkit@conveyor.dev", fixed));
        assertThat(first.tags()).containsExactly(new BareRepo.Tag("light", a, false, null),
                new BareRepo.Tag("v1", a, true, "version one\n"));
        Path clone = first.cloneTo(work.resolve("clone"));
        assertThat(clone.resolve("a.txt")).doesNotExist();
        assertThat(clone.resolve("dir/b.txt")).hasContent("B2");
    }

    @Test
    void seedAddsOnTopOfMain() {
        BareRepo repo = repos.createBare("seeded");
        String one = repo.seed(Map.of("x", "1"), "first");
        String two = repo.seed(Map.of("y", "2"), "second");

        assertThat(repo.head("main")).contains(two);
        assertThat(repo.commits()).extracting(BareRepo.Commit::id).containsExactly(two, one);
        Path clone = repo.cloneTo(work.resolve("c"));
        assertThat(clone.resolve("x")).hasContent("1");
        assertThat(clone.resolve("y")).hasContent("2");
    }

    @Test
    void existingTagsAreNeverMoved() {
        BareRepo repo = repos.createBare("tags");
        repo.writer().file("x", "1").tag("v1").commit();

        assertThatThrownBy(() -> repo.writer().file("x", "2").tag("v1").commit())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("refs/tags/v1");
    }

    @Test
    void invalidNamesAreRejected() {
        for (String name : new String[]{"", "../x", "a/../../b", "/abs", "a b", "a//b", "./a"}) {
            assertThatThrownBy(() -> repos.createBare(name)).as(name).isInstanceOf(IllegalArgumentException.class);
        }
        repos.createBare("dup");
        assertThatThrownBy(() -> repos.createBare("dup.git")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void resolverOnlyOpensRepositoriesInsideTheRoot() throws Exception {
        repos.createBare("inside");
        Path outside = Files.createDirectories(repos.root().getParent().resolve(repos.root().getFileName() + "-x"));
        try {
            repos.createBare("decoy"); // a repository exists, but "../" must never reach a sibling directory
            RootRepositoryResolver<Object> resolver = new RootRepositoryResolver<>(repos.root());

            try (Repository db = resolver.open(null, "inside.git")) {
                assertThat(db.getDirectory().toPath()).isEqualTo(repos.root().resolve("inside.git").toRealPath());
            }
            try (Repository db = resolver.open(null, "inside")) {
                assertThat(db.isBare()).isTrue();
            }
            for (String name : new String[]{"../etc", "/etc", "//etc", "inside/../../x", "missing.git", "",
                    "../" + outside.getFileName()}) {
                assertThatThrownBy(() -> resolver.open(null, name)).as(name)
                        .isInstanceOf(RepositoryNotFoundException.class);
            }
        } finally {
            dev.conveyor.testkit.TempDirs.deleteQuietly(outside);
        }
    }
}
