package dev.conveyor.manifests.client;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.dircache.DirCache;
import org.eclipse.jgit.dircache.DirCacheBuilder;
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

import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitFailure;
import dev.conveyor.stage.git.PushRace;

/**
 * Writes a directory of files as one commit on top of a branch's tip, straight into a bare mirror's object store
 * (no working tree), and pushes it without force. Files in the directory that are not in the new set are removed. The
 * caller fetches again and calls once more when the push loses a race.
 */
public final class ManifestsCommitter {

    /** What happened. */
    public enum Outcome {
        /** The directory already holds exactly these files: nothing was committed. */
        UNCHANGED,
        /** Committed and pushed. */
        PUSHED,
        /** The branch moved on the remote meanwhile (non-fast-forward): fetch and try again. */
        REJECTED_RACE,
        /** The remote refused for another reason (protected branch, hook). */
        REJECTED
    }

    /** The outcome, the commit when pushed, and the remote's message when rejected. */
    public record Result(Outcome outcome, Optional<String> commit, Optional<String> remoteMessage) {
    }

    private final GitAccess access;

    public ManifestsCommitter(GitAccess access) {
        this.access = access;
    }

    /**
     * Commits {@code files} as the whole content of {@code dir} on top of {@code tip} and pushes it to
     * {@code branch} of {@code url}.
     *
     * @param files file name (relative to {@code dir}) to content
     */
    public Result commit(Repository repo, String url, String branch, ObjectId tip, String dir,
            Map<String, String> files, PersonIdent ident, String message) {
        ObjectId commitId;
        try (ObjectInserter inserter = repo.newObjectInserter(); RevWalk walk = new RevWalk(repo)) {
            RevCommit parent = walk.parseCommit(tip);
            DirCache index = DirCache.newInCore();
            DirCacheBuilder builder = index.builder();
            builder.addTree(new byte[0], 0, walk.getObjectReader(), parent.getTree());
            builder.finish();
            DirCacheEditor editor = index.editor();
            editor.add(new DirCacheEditor.DeleteTree(dir));
            for (Map.Entry<String, String> file : files.entrySet()) {
                ObjectId blob = inserter.insert(Constants.OBJ_BLOB, file.getValue().getBytes(StandardCharsets.UTF_8));
                editor.add(new DirCacheEditor.PathEdit(dir + "/" + file.getKey()) {
                    @Override
                    public void apply(DirCacheEntry entry) {
                        entry.setFileMode(FileMode.REGULAR_FILE);
                        entry.setObjectId(blob);
                    }
                });
            }
            editor.finish();
            ObjectId tree = index.writeTree(inserter);
            if (tree.equals(parent.getTree())) {
                return new Result(Outcome.UNCHANGED, Optional.empty(), Optional.empty());
            }
            CommitBuilder commit = new CommitBuilder();
            commit.setTreeId(tree);
            commit.setParentId(parent);
            commit.setAuthor(ident);
            commit.setCommitter(ident);
            commit.setMessage(message);
            commitId = inserter.insert(commit);
            inserter.flush();
        } catch (IOException e) {
            throw GitFailure.classify(e, url);
        }
        return push(repo, url, branch, commitId);
    }

    private Result push(Repository repo, String url, String branch, ObjectId commitId) {
        String ref = Constants.R_HEADS + branch;
        try (Git git = Git.wrap(repo)) {
            Iterable<PushResult> results = access.apply(git.push()).setRemote(url)
                    .setRefSpecs(new RefSpec(commitId.name() + ":" + ref)).setForce(false).call();
            for (PushResult result : results) {
                RemoteRefUpdate update = result.getRemoteUpdate(ref);
                if (update == null) {
                    continue;
                }
                Supplier<Optional<String>> message = () -> Optional.ofNullable(update.getMessage()).or(
                        () -> Optional.of(update.getStatus().name()));
                if (update.getStatus() == RemoteRefUpdate.Status.OK
                        || update.getStatus() == RemoteRefUpdate.Status.UP_TO_DATE) {
                    continue;
                }
                return new Result(PushRace.lostRace(update) ? Outcome.REJECTED_RACE : Outcome.REJECTED,
                        Optional.empty(), message.get());
            }
            return new Result(Outcome.PUSHED, Optional.of(commitId.name()), Optional.empty());
        } catch (GitAPIException e) {
            throw GitFailure.classify(e, url);
        }
    }
}
