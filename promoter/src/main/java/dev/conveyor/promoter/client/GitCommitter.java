package dev.conveyor.promoter.client;

import java.io.IOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;
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

import dev.conveyor.stage.StageException;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitFailure;
import dev.conveyor.stage.git.GitUrls;
import dev.conveyor.stage.git.PushRace;
import dev.conveyor.stage.git.RepoMirrors;

/**
 * Commits a change to a shared branch and pushes it without force. A push that loses a race (someone pushed first) is
 * not an error: through {@link PushRace} the branch is fetched again, the change is recomputed on the new tip and
 * pushed again, a bounded number of rounds with backoff, so concurrent promoters never overwrite each other. A change that is already on the
 * branch makes no commit, and neither does one its run already committed (same subject and trailer in the branch's
 * recent history) even when newer commits changed the files since: that is what makes redeliveries and replays safe. Commits are built in the bare mirror without a work tree.
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

    private static final int HISTORY_SEARCH = 500;

    private final PushRace race;
    private final RepoMirrors mirrors;
    private final GitAccess access;
    private final String authorName;
    private final String authorEmail;

    /** @param race fetches the mirror for each round and runs the rounds of a push that lost a race */
    public GitCommitter(PushRace race, RepoMirrors mirrors, GitAccess access, String authorName, String authorEmail) {
        this.race = race;
        this.mirrors = mirrors;
        this.access = access;
        this.authorName = authorName;
        this.authorEmail = authorEmail;
    }

    /**
     * Applies {@code edit} on the tip of {@code branch} and pushes it; when the tree does not change, returns the
     * commit that made it (one with this {@code subject} and {@code trailer}) or the tip.
     */
    public Committed commit(String url, String branch, String subject, String body, String trailer, Edit edit) {
        String message = subject + "\n\n" + body + "\n\n" + trailer + "\n";
        return race.push(url, PushFailure.PUSH_RACE, "branch " + branch, (repo, round) -> {
            RevCommit tip = tip(repo, branch);
            Optional<String> made = findMade(repo, tip, subject, trailer);
            if (made.isPresent()) {
                // Made before (the input came again after a crash, or a replay): applying it again on a newer tip
                // would roll the branch back to this run's version.
                return Optional.of(new Committed(made.get(), false, round));
            }
            Built built = build(repo, tip, edit, message);
            if (built == null) {
                return Optional.of(new Committed(tip == null ? null : tip.name(), false, round));
            }
            return push(repo, url, built.commit, branch, false)
                    ? Optional.of(new Committed(built.commit.name(), true, round))
                    : Optional.empty();
        });
    }

    /**
     * Puts the change on {@code headBranch}, a branch this service owns (a pull request's head): reused when it already
     * carries the change, otherwise re-created from the tip of {@code baseBranch} and pushed with force.
     */
    public Committed commitToOwnBranch(String url, String baseBranch, String headBranch, String subject, String body,
            String trailer, Edit edit) {
        String message = subject + "\n\n" + body + "\n\n" + trailer + "\n";
        return race.push(url, PushFailure.PUSH_RACE, "branch " + headBranch, (repo, round) -> {
            RevCommit head = tip(repo, headBranch);
            if (head != null && build(repo, head, edit, message) == null) {
                return Optional.of(new Committed(head.name(), false, round));
            }
            Built built = build(repo, tip(repo, baseBranch), edit, message);
            if (built == null) {
                throw StageException.terminal(PushFailure.PUSH_DENIED, "branch " + baseBranch + " of "
                        + GitUrls.redact(url) + " already has the change; no pull request is needed", Map.of());
            }
            return push(repo, url, built.commit, headBranch, true)
                    ? Optional.of(new Committed(built.commit.name(), true, round))
                    : Optional.empty();
        });
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

    /** Pushes; false when the push lost a race, a terminal failure when the remote denied it. */
    private boolean push(Repository repo, String url, RevCommit commit, String branch, boolean force) {
        try (Git git = Git.wrap(repo)) {
            Iterable<PushResult> results = access.apply(git.push()).setRemote(url)
                    .setRefSpecs(new RefSpec((force ? "+" : "") + commit.name() + ":" + Constants.R_HEADS + branch))
                    .setForce(force).call();
            for (PushResult result : results) {
                RemoteRefUpdate update = result.getRemoteUpdate(Constants.R_HEADS + branch);
                if (update == null || update.getStatus() == RemoteRefUpdate.Status.OK
                        || update.getStatus() == RemoteRefUpdate.Status.UP_TO_DATE) {
                    continue;
                }
                if (PushRace.lostRace(update)) {
                    return false;
                }
                String said = update.getMessage() == null ? "" : update.getMessage();
                throw StageException.terminal(PushFailure.PUSH_DENIED, "the remote " + GitUrls.redact(url)
                        + " refused the push to " + branch + ": " + update.getStatus() + " " + GitUrls.scrub(said),
                        Map.of("branch", branch));
            }
            return true;
        } catch (GitAPIException | org.eclipse.jgit.api.errors.JGitInternalException e) {
            throw GitFailure.classify(e, url);
        }
    }

    /** The commit with this subject and trailer among the last {@value #HISTORY_SEARCH} of the branch, if any. */
    private static Optional<String> findMade(Repository repo, RevCommit tip, String subject, String trailer)
            throws IOException {
        if (tip == null) {
            return Optional.empty();
        }
        try (RevWalk walk = new RevWalk(repo)) {
            walk.markStart(walk.parseCommit(tip));
            int seen = 0;
            for (RevCommit c : walk) {
                if (c.getShortMessage().equals(subject) && c.getFullMessage().contains(trailer)) {
                    return Optional.of(c.name());
                }
                if (++seen >= HISTORY_SEARCH) {
                    break;
                }
            }
        }
        return Optional.empty();
    }
}
