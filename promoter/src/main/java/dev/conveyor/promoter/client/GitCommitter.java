package dev.conveyor.promoter.client;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.dircache.DirCache;
import org.eclipse.jgit.dircache.DirCacheBuilder;
import org.eclipse.jgit.dircache.DirCacheEntry;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.transport.PushResult;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.RemoteRefUpdate;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.jboss.logging.Logger;

import dev.conveyor.stage.StageException;
import dev.conveyor.stage.StageRunner;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitFailure;
import dev.conveyor.stage.git.GitUrls;
import dev.conveyor.stage.git.RepoMirrors;

/**
 * Commits a change to a shared branch and pushes it without force. A push that loses a race (someone pushed first) is
 * not an error: the branch is fetched again, the change is recomputed on the new tip and pushed again, a bounded number
 * of times with random jitter, so concurrent promoters never overwrite each other. A change that is already on the
 * branch makes no commit, which is what makes replays safe. Commits are built in the bare mirror without a work tree.
 */
public final class GitCommitter {

    /** Computes the change from the branch's current tree. */
    @FunctionalInterface
    public interface Edit {
        TreeChange apply(GitTree current) throws IOException;
    }

    /**
     * A commit on the branch.
     *
     * @param commit the commit carrying the change (the existing one when nothing was committed)
     * @param created whether this call made it
     * @param attempts push rounds it took
     */
    public record Committed(String commit, boolean created, int attempts) {
    }

    /** Reason codes of git pushes beyond {@link GitFailure}. */
    public enum PushFailure {
        /** The remote refused the push for a reason other than a race (protected branch, hook). Terminal. */
        PUSH_DENIED,
        /** Other writers kept winning the race for the branch. Transient. */
        PUSH_RACE
    }

    private static final Logger LOG = Logger.getLogger(GitCommitter.class);
    private static final int HISTORY_SEARCH = 500;

    private final RepoMirrors mirrors;
    private final GitAccess access;
    private final String authorName;
    private final String authorEmail;
    private final int maxAttempts;
    private final Duration jitter;
    private final StageRunner.Sleeper sleeper;

    public GitCommitter(RepoMirrors mirrors, GitAccess access, String authorName, String authorEmail, int maxAttempts,
            Duration jitter, StageRunner.Sleeper sleeper) {
        this.mirrors = mirrors;
        this.access = access;
        this.authorName = authorName;
        this.authorEmail = authorEmail;
        this.maxAttempts = maxAttempts;
        this.jitter = jitter;
        this.sleeper = sleeper;
    }

    /**
     * Applies {@code edit} on the tip of {@code branch} and pushes it; when the tree does not change, returns the
     * commit that made it (one with this {@code subject} and {@code trailer}) or the tip.
     */
    public Committed commit(String url, String branch, String subject, String body, String trailer, Edit edit) {
        for (int attempt = 1;; attempt++) {
            ReentrantLock lock = mirrors.lock(url);
            lock.lock();
            try (Repository repo = mirrors.fetch(url)) {
                RevCommit tip = tip(repo, branch);
                Built built = build(repo, tip, edit, subject + "\n\n" + body + "\n\n" + trailer + "\n");
                if (built == null) {
                    return new Committed(findMade(repo, tip, subject, trailer), false, attempt);
                }
                RemoteRefUpdate.Status status = push(repo, url, built.commit, branch, false);
                if (status == RemoteRefUpdate.Status.OK) {
                    return new Committed(built.commit.name(), true, attempt);
                }
            } catch (IOException e) {
                throw GitFailure.classify(e, url);
            } finally {
                lock.unlock();
            }
            if (attempt >= maxAttempts) {
                throw StageException.transientFailure(PushFailure.PUSH_RACE, "the push to " + GitUrls.redact(url)
                        + " branch " + branch + " kept losing races after " + attempt + " attempts", null);
            }
            LOG.debugf("push to %s %s lost a race (attempt %d), re-applying on the new tip", GitUrls.redact(url),
                    branch, attempt);
            pause(attempt);
        }
    }

    /**
     * Puts the change on {@code headBranch}, a branch this service owns (a pull request's head): reused when it already
     * carries the change, otherwise re-created from the tip of {@code baseBranch} and pushed with force.
     */
    public Committed commitToOwnBranch(String url, String baseBranch, String headBranch, String subject, String body,
            String trailer, Edit edit) {
        for (int attempt = 1;; attempt++) {
            ReentrantLock lock = mirrors.lock(url);
            lock.lock();
            try (Repository repo = mirrors.fetch(url)) {
                String message = subject + "\n\n" + body + "\n\n" + trailer + "\n";
                RevCommit head = tip(repo, headBranch);
                if (head != null && build(repo, head, edit, message) == null) {
                    return new Committed(head.name(), false, attempt);
                }
                Built built = build(repo, tip(repo, baseBranch), edit, message);
                if (built == null) {
                    throw StageException.terminal(PushFailure.PUSH_DENIED, "branch " + baseBranch + " of "
                            + GitUrls.redact(url) + " already has the change; no pull request is needed", Map.of());
                }
                if (push(repo, url, built.commit, headBranch, true) == RemoteRefUpdate.Status.OK) {
                    return new Committed(built.commit.name(), true, attempt);
                }
            } catch (IOException e) {
                throw GitFailure.classify(e, url);
            } finally {
                lock.unlock();
            }
            if (attempt >= maxAttempts) {
                throw StageException.transientFailure(PushFailure.PUSH_RACE, "the push to " + GitUrls.redact(url)
                        + " branch " + headBranch + " kept failing after " + attempt + " attempts", null);
            }
            pause(attempt);
        }
    }

    /** Whether {@code branch} already holds the change (used to skip a pull request). */
    public boolean alreadyOn(String url, String branch, Edit edit) {
        ReentrantLock lock = mirrors.lock(url);
        lock.lock();
        try (Repository repo = mirrors.fetch(url)) {
            RevCommit tip = tip(repo, branch);
            return tip != null && build(repo, tip, edit, "probe") == null;
        } catch (IOException e) {
            throw GitFailure.classify(e, url);
        } finally {
            lock.unlock();
        }
    }

    private record Built(RevCommit commit) {
    }

    private static RevCommit tip(Repository repo, String branch) throws IOException {
        Ref ref = repo.exactRef(Constants.R_HEADS + branch);
        if (ref == null) {
            return null;
        }
        try (RevWalk walk = new RevWalk(repo)) {
            return walk.parseCommit(ref.getObjectId());
        }
    }

    /** The new commit, or {@code null} when the change leaves the tree as it is. */
    private Built build(Repository repo, RevCommit parent, Edit edit, String message) throws IOException {
        GitTree current = parent == null ? GitTree.empty(repo) : new GitTree(repo, parent.getTree());
        TreeChange change = edit.apply(current);
        try (ObjectInserter inserter = repo.newObjectInserter(); RevWalk walk = new RevWalk(repo)) {
            DirCache index = DirCache.newInCore();
            DirCacheBuilder builder = index.builder();
            if (parent != null) {
                try (TreeWalk tree = new TreeWalk(repo)) {
                    tree.addTree(parent.getTree());
                    tree.setRecursive(true);
                    while (tree.next()) {
                        String path = tree.getPathString();
                        if (change.files().containsKey(path)
                                || change.replacedDirectories().stream().anyMatch(path::startsWith)) {
                            continue;
                        }
                        DirCacheEntry entry = new DirCacheEntry(path);
                        entry.setFileMode(tree.getFileMode(0));
                        entry.setObjectId(tree.getObjectId(0));
                        builder.add(entry);
                    }
                }
            }
            for (Map.Entry<String, byte[]> file : change.files().entrySet()) {
                DirCacheEntry entry = new DirCacheEntry(file.getKey());
                entry.setFileMode(FileMode.REGULAR_FILE);
                entry.setObjectId(inserter.insert(Constants.OBJ_BLOB, file.getValue()));
                builder.add(entry);
            }
            builder.finish();
            ObjectId tree = index.writeTree(inserter);
            if (parent != null && tree.equals(parent.getTree())) {
                return null;
            }
            PersonIdent ident = new PersonIdent(authorName, authorEmail, Instant.now(), ZoneOffset.UTC);
            CommitBuilder commit = new CommitBuilder();
            commit.setTreeId(tree);
            if (parent != null) {
                commit.setParentId(parent);
            }
            commit.setAuthor(ident);
            commit.setCommitter(ident);
            commit.setMessage(message);
            ObjectId id = inserter.insert(commit);
            inserter.flush();
            return new Built(walk.parseCommit(id));
        }
    }

    private RemoteRefUpdate.Status push(Repository repo, String url, RevCommit commit, String branch, boolean force) {
        try (Git git = Git.wrap(repo)) {
            Iterable<PushResult> results = access.apply(git.push()).setRemote(url)
                    .setRefSpecs(new RefSpec((force ? "+" : "") + commit.name() + ":" + Constants.R_HEADS + branch))
                    .setForce(force).call();
            for (PushResult result : results) {
                RemoteRefUpdate update = result.getRemoteUpdate(Constants.R_HEADS + branch);
                if (update == null) {
                    continue;
                }
                switch (update.getStatus()) {
                    case OK, UP_TO_DATE -> {
                        return RemoteRefUpdate.Status.OK;
                    }
                    case REJECTED_NONFASTFORWARD, REJECTED_REMOTE_CHANGED -> {
                        return update.getStatus();
                    }
                    default -> {
                        String said = update.getMessage() == null ? "" : update.getMessage();
                        if (said.toLowerCase(java.util.Locale.ROOT).contains("lock")) {
                            // Another push held the ref's lock at that moment: a race like any other.
                            return RemoteRefUpdate.Status.REJECTED_REMOTE_CHANGED;
                        }
                        throw StageException.terminal(PushFailure.PUSH_DENIED, "the remote " + GitUrls.redact(url)
                                + " refused the push to " + branch + ": " + update.getStatus() + " "
                                + GitUrls.scrub(said), Map.of("branch", branch));
                    }
                }
            }
            return RemoteRefUpdate.Status.OK;
        } catch (GitAPIException | org.eclipse.jgit.api.errors.JGitInternalException e) {
            throw GitFailure.classify(e, url);
        }
    }

    private static String findMade(Repository repo, RevCommit tip, String subject, String trailer)
            throws IOException {
        if (tip == null) {
            return null;
        }
        try (RevWalk walk = new RevWalk(repo)) {
            walk.markStart(walk.parseCommit(tip));
            int seen = 0;
            for (RevCommit c : walk) {
                if (c.getShortMessage().equals(subject) && c.getFullMessage().contains(trailer)) {
                    return c.name();
                }
                if (++seen >= HISTORY_SEARCH) {
                    break;
                }
            }
        }
        return tip.name();
    }

    private void pause(int attempt) {
        long bound = Math.max(1, Math.min(jitter.toMillis() * (1L << Math.min(attempt, 6)), 5_000));
        try {
            sleeper.sleep(Duration.ofMillis(ThreadLocalRandom.current().nextLong(bound)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw StageException.transientFailure(PushFailure.PUSH_RACE, "interrupted while retrying a push", e);
        }
    }
}
