package dev.conveyor.fluxsync.service;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import org.eclipse.jgit.lib.Repository;
import org.jboss.logging.Logger;

import dev.conveyor.events.v1.RunTrailer;
import dev.conveyor.fluxsync.client.GitopsSnapshot;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.git.GitUrls;

/**
 * Phase "read the revision": the head of the repository's branch in its fetched mirror, the snapshot of the
 * repository's path at it, and the runs the sync delivers (the {@code Conveyor-Run} trailers of the commits since
 * the revision last reported).
 */
final class RevisionReader {

    private static final Logger LOG = Logger.getLogger(RevisionReader.class);

    /**
     * One revision to sync.
     *
     * @param snapshot the repository's files at it
     * @param newRevision whether it differs from the revision applied last
     * @param runIds the runs it delivers
     */
    record Revision(GitopsSnapshot snapshot, boolean newRevision, List<String> runIds) {
        String id() {
            return snapshot.revision();
        }
    }

    private final ReportedRevisions reported;

    RevisionReader(ReportedRevisions reported) {
        this.reported = reported;
    }

    /** Reads the branch head of {@code git}; {@code applied} is the revision applied last (null if none). */
    Revision read(RepoSpec repo, Repository git, String applied) throws IOException {
        String field = "conveyor.flux-sync.repos." + repo.name() + ".branch";
        String revision = GitopsSnapshot.head(git, repo.branch()).orElse(null);
        if (revision == null) {
            throw StageException.terminal(FluxSyncFailure.BRANCH_NOT_FOUND, GitopsSnapshot.branchNotFound(git, repo
                    .branch(), GitUrls.redact(repo.url()), field), Map.of("field", field));
        }
        GitopsSnapshot snapshot = GitopsSnapshot.read(git, revision, repo.path());
        return new Revision(snapshot, !revision.equals(applied), deliveredRuns(repo, git, applied, revision));
    }

    /**
     * The runs a sync of {@code revision} delivers: the {@code Conveyor-Run} trailers of the commits since the revision
     * last reported (not the last applied: a run applied but not reported before a crash is delivered again), at most
     * {@link RepoReconciler#MAX_COMMITS} of them. When history was rewritten (the reported revision is not an
     * ancestor), the commits since the common ancestor.
     */
    private List<String> deliveredRuns(RepoSpec repo, Repository git, String applied, String revision)
            throws IOException {
        String since = reported.since(repo, applied).orElse(null);
        if (revision.equals(since)) {
            return List.of();
        }
        if (since != null && !GitopsSnapshot.isAncestor(git, since, revision)) {
            LOG.infof("[flux-sync] repo %s: the reported revision %s is not an ancestor of %s (history rewritten); "
                    + "reporting the runs of the commits since their common ancestor, at most %d", repo.name(),
                    shortRev(since), shortRev(revision), RepoReconciler.MAX_COMMITS);
        }
        return RunTrailer.parse(GitopsSnapshot.messagesBetween(git, since, revision, RepoReconciler.MAX_COMMITS));
    }

    static String shortRev(String revision) {
        return revision.length() > 12 ? revision.substring(0, 12) : revision;
    }
}
