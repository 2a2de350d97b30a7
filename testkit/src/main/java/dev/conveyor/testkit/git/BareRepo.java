package dev.conveyor.testkit.git;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevObject;
import org.eclipse.jgit.revwalk.RevTag;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;

/**
 * A bare repository on disk, with helpers to seed content and to read it back for assertions. The read helpers open the
 * repository afresh on every call, so they see what servers wrote in the meantime.
 *
 * @param name the repository name without {@code .git}, as used in {@link GitDaemonServer#url(String)}
 * @param path the absolute path of the bare repository directory ({@code <root>/<name>.git})
 */
public record BareRepo(String name, Path path) {

    /** A commit as seen on a branch, newest first in {@link #commits()}. */
    public record Commit(String id, String shortMessage, String authorName, String authorEmail, Instant time) {
    }

    /**
     * A tag.
     *
     * @param commitId the commit the tag points to, peeled through annotated tags
     * @param message the annotated tag's full message, {@code null} for a lightweight tag
     */
    public record Tag(String name, String commitId, boolean annotated, String message) {
    }

    /** The {@code file:///...} URL of this repository. */
    public String fileUrl() {
        return "file://" + path.toAbsolutePath();
    }

    /** A writer committing to {@code main}; see {@link RepoWriter} for files, time, branch and tags. */
    public RepoWriter writer() {
        return new RepoWriter(this);
    }

    /** Commits the files (path → UTF-8 content) on top of {@code main} and returns the new commit id. */
    public String seed(Map<String, String> files, String message) {
        RepoWriter writer = writer().message(message);
        files.forEach(writer::file);
        return writer.commit();
    }

    /** The commit id a branch points to, if the branch exists. */
    public Optional<String> head(String branch) {
        try (Repository repo = open()) {
            Ref ref = repo.exactRef(Constants.R_HEADS + branch);
            return Optional.ofNullable(ref).map(r -> r.getObjectId().name());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The commits reachable from {@code main}, newest first; empty if the branch does not exist yet. */
    public List<Commit> commits() {
        return commits(GitRepos.DEFAULT_BRANCH);
    }

    /** The commits reachable from a branch, newest first; empty if the branch does not exist. */
    public List<Commit> commits(String branch) {
        try (Repository repo = open(); RevWalk walk = new RevWalk(repo)) {
            Ref ref = repo.exactRef(Constants.R_HEADS + branch);
            if (ref == null) {
                return List.of();
            }
            walk.markStart(walk.parseCommit(ref.getObjectId()));
            List<Commit> commits = new ArrayList<>();
            for (RevCommit c : walk) {
                commits.add(new Commit(c.name(), c.getShortMessage(), c.getAuthorIdent().getName(),
                        c.getAuthorIdent().getEmailAddress(), c.getAuthorIdent().getWhenAsInstant()));
            }
            return commits;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** All tags, sorted by name. */
    public List<Tag> tags() {
        try (Repository repo = open(); RevWalk walk = new RevWalk(repo)) {
            List<Tag> tags = new ArrayList<>();
            for (Ref ref : repo.getRefDatabase().getRefsByPrefix(Constants.R_TAGS)) {
                String tagName = ref.getName().substring(Constants.R_TAGS.length());
                RevObject object = walk.parseAny(ref.getObjectId());
                if (object instanceof RevTag tag) {
                    RevObject target = walk.peel(tag);
                    tags.add(new Tag(tagName, target.name(), true, tag.getFullMessage()));
                } else {
                    tags.add(new Tag(tagName, object.name(), false, null));
                }
            }
            tags.sort((a, b) -> a.name().compareTo(b.name()));
            return tags;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Clones this repository into a (new or empty) directory with a work tree on {@code main}; returns it. */
    public Path cloneTo(Path directory) {
        try (Git ignored = Git.cloneRepository().setURI(fileUrl()).setDirectory(directory.toFile())
                .setBranch(GitRepos.DEFAULT_BRANCH).call()) {
            return directory;
        } catch (GitAPIException e) {
            throw new IllegalStateException("cannot clone " + fileUrl() + " to " + directory, e);
        }
    }

    /** Opens the bare repository; the caller closes it (try-with-resources). */
    public Repository open() throws IOException {
        return new FileRepositoryBuilder().setGitDir(path.toFile()).setMustExist(true).build();
    }

    static ObjectId resolveCommit(Repository repo, String branch) throws IOException {
        Ref ref = repo.exactRef(Constants.R_HEADS + branch);
        return ref == null ? null : ref.getObjectId();
    }
}
