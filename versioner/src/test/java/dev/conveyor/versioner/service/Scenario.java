package dev.conveyor.versioner.service;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.MergeCommand;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.revwalk.RevCommit;

/**
 * A git history built step by step for a version case: commits with given files and messages, branches, merges and
 * tags, in a repository the versioner fetches over {@code file://}.
 */
final class Scenario implements AutoCloseable {

    private final Path dir;
    private final Git git;
    private int clock;
    private String head;

    Scenario(Path dir) {
        this.dir = dir;
        try {
            this.git = Git.init().setDirectory(dir.toFile()).setInitialBranch("main").call();
        } catch (GitAPIException e) {
            throw new IllegalStateException(e);
        }
    }

    String url() {
        return dir.toUri().toString();
    }

    /** The last commit made. */
    String head() {
        return head;
    }

    /** Commits {@code files} (path, content, path, content, ...) with {@code message}. */
    Scenario commit(String message, String... files) {
        try {
            for (int i = 0; i < files.length; i += 2) {
                Path file = dir.resolve(files[i]);
                Files.createDirectories(file.getParent());
                Files.writeString(file, files[i + 1], StandardCharsets.UTF_8);
                git.add().addFilepattern(files[i]).call();
            }
            if (files.length == 0) {
                // One file per commit, so branches never conflict when merged.
                String name = "history/" + (clock + 1) + ".txt";
                Path file = dir.resolve(name);
                Files.createDirectories(file.getParent());
                Files.writeString(file, message + "\n", StandardCharsets.UTF_8);
                git.add().addFilepattern(name).call();
            }
            RevCommit commit = git.commit().setMessage(message).setAuthor(ident()).setCommitter(ident()).call();
            head = commit.name();
            return this;
        } catch (GitAPIException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Lightweight tag on the last commit. */
    Scenario tag(String name) {
        try {
            git.tag().setName(name).setAnnotated(false).call();
            return this;
        } catch (GitAPIException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Annotated tag on the last commit. */
    Scenario annotatedTag(String name) {
        try {
            git.tag().setName(name).setAnnotated(true).setMessage("release " + name).setTagger(ident()).call();
            return this;
        } catch (GitAPIException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Creates and checks out a branch from the current commit. */
    Scenario branch(String name) {
        try {
            git.checkout().setCreateBranch(true).setName(name).call();
            return this;
        } catch (GitAPIException e) {
            throw new IllegalStateException(e);
        }
    }

    Scenario checkout(String name) {
        try {
            git.checkout().setName(name).call();
            head = git.getRepository().resolve("HEAD").name();
            return this;
        } catch (GitAPIException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Merges {@code branch} into the current branch with a merge commit. */
    Scenario merge(String branch, String message) {
        try {
            git.merge().include(git.getRepository().resolve(branch)).setFastForward(MergeCommand.FastForwardMode.NO_FF)
                    .setCommit(false).call();
            RevCommit commit = git.commit().setMessage(message).setAuthor(ident()).setCommitter(ident()).call();
            head = commit.name();
            return this;
        } catch (GitAPIException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The commit a tag points at, or null. */
    String tagged(String tag) {
        try {
            var id = git.getRepository().resolve("refs/tags/" + tag + "^{commit}");
            return id == null ? null : id.name();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private PersonIdent ident() {
        clock++;
        return new PersonIdent("Dev", "dev@example.com", Instant.parse("2026-01-01T00:00:00Z").plusSeconds(clock * 60L),
                ZoneOffset.UTC);
    }

    @Override
    public void close() {
        git.close();
    }
}
