package dev.conveyor.notifier.client;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.jboss.logging.Logger;

import dev.conveyor.notifier.domain.AppNotifySettings;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.config.ConveyorYaml;
import dev.conveyor.stage.config.InvalidConfigException;
import dev.conveyor.stage.git.GitUrls;
import dev.conveyor.stage.git.RepoMirrors;

/**
 * Reads the {@code notify} section of the app's {@code .conveyor.yaml} at the run's commit, from a bare mirror that is
 * fetched, never re-cloned. Done once per run (the result is kept in the run's state). A repository that cannot be
 * fetched or a file that breaks its rules is logged (naming the field) and the platform's settings apply: a
 * notification is never dropped for want of a channel name.
 */
public final class AppConfigReader {

    private static final Logger LOG = Logger.getLogger(AppConfigReader.class);

    private final RepoMirrors mirrors;

    public AppConfigReader(RepoMirrors mirrors) {
        this.mirrors = mirrors;
    }

    public AppNotifySettings read(String app, String runId, String repoUrl, String commit) {
        ReentrantLock lock = mirrors.lock(repoUrl);
        lock.lock();
        try (Repository repo = mirrors.fetch(repoUrl)) {
            return file(repo, commit).map(ConveyorYaml::parse).map(AppNotifySettings::from)
                    .orElseGet(AppNotifySettings::none);
        } catch (InvalidConfigException e) {
            LOG.warnf("app %s run %s: %s at %s ignored, platform settings apply: %s", app, runId,
                    ConveyorYaml.FILE_NAME, commit, e.getMessage());
        } catch (StageException | IOException e) {
            LOG.warnf("app %s run %s: cannot read %s from %s (%s), platform settings apply", app, runId,
                    ConveyorYaml.FILE_NAME, GitUrls.redact(repoUrl), GitUrls.scrub(String.valueOf(e.getMessage())));
        } finally {
            lock.unlock();
        }
        return AppNotifySettings.none();
    }

    private static Optional<String> file(Repository repo, String commit) throws IOException {
        try (RevWalk walk = new RevWalk(repo)) {
            RevCommit c = walk.parseCommit(ObjectId.fromString(commit));
            try (TreeWalk tree = TreeWalk.forPath(repo, ConveyorYaml.FILE_NAME, c.getTree())) {
                if (tree == null) {
                    return Optional.empty();
                }
                ObjectLoader loader = repo.open(tree.getObjectId(0));
                if (loader.getSize() > ConveyorYaml.MAX_BYTES) {
                    throw new InvalidConfigException(ConveyorYaml.FILE_NAME,
                            ConveyorYaml.FILE_NAME + " is larger than " + ConveyorYaml.MAX_BYTES + " bytes");
                }
                return Optional.of(new String(loader.getBytes(), StandardCharsets.UTF_8));
            }
        } catch (IllegalArgumentException | org.eclipse.jgit.errors.MissingObjectException e) {
            throw new IOException("commit " + commit + " is not in the repository", e);
        }
    }
}
