package dev.conveyor.imagebuilder.client;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

import org.eclipse.jgit.errors.IncorrectObjectTypeException;
import org.eclipse.jgit.errors.MissingObjectException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.treewalk.TreeWalk;

import dev.conveyor.imagebuilder.service.ImageBuilderFailure;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.config.ConveyorYaml;
import dev.conveyor.stage.git.GitFailure;
import dev.conveyor.stage.git.GitUrls;
import dev.conveyor.stage.git.RepoMirrors;

/** Reads what the image needs from the app repository at the run's commit: {@code .conveyor.yaml} and the time. */
public final class AppSources {

    /** The commit's committer time and its {@code .conveyor.yaml}, if it has one. */
    public record AtCommit(Instant commitTime, Optional<String> conveyorYaml) {
    }

    private final RepoMirrors mirrors;

    public AppSources(RepoMirrors mirrors) {
        this.mirrors = mirrors;
    }

    /** Fetches the app's mirror and reads the commit. */
    public AtCommit read(String repoUrl, String commitId) {
        ReentrantLock lock = mirrors.lock(repoUrl);
        lock.lock();
        try (Repository repo = mirrors.fetch(repoUrl); RevWalk walk = new RevWalk(repo)) {
            RevCommit commit;
            try {
                commit = walk.parseCommit(ObjectId.fromString(commitId));
            } catch (IllegalArgumentException | MissingObjectException | IncorrectObjectTypeException e) {
                throw StageException.terminal(ImageBuilderFailure.UNKNOWN_COMMIT, "commit " + commitId + " is not in "
                        + GitUrls.redact(repoUrl), Map.of("commit", commitId));
            }
            return new AtCommit(Instant.ofEpochSecond(commit.getCommitTime()), readFile(repo, commit,
                    ConveyorYaml.FILE_NAME));
        } catch (IOException e) {
            throw GitFailure.classify(e, repoUrl);
        } finally {
            lock.unlock();
        }
    }

    private static Optional<String> readFile(Repository repo, RevCommit commit, String path) throws IOException {
        try (TreeWalk tree = TreeWalk.forPath(repo, path, commit.getTree())) {
            if (tree == null || tree.getFileMode(0).getObjectType() != Constants.OBJ_BLOB) {
                return Optional.empty();
            }
            ObjectLoader loader = repo.open(tree.getObjectId(0));
            if (loader.getSize() > ConveyorYaml.MAX_BYTES) {
                throw StageException.terminal(ImageBuilderFailure.INVALID_CONFIG, path + " is larger than "
                        + ConveyorYaml.MAX_BYTES + " bytes", Map.of("field", path));
            }
            return Optional.of(new String(loader.getBytes(), StandardCharsets.UTF_8));
        }
    }
}
