package dev.conveyor.promoter.client;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;

import dev.conveyor.events.v1.RunTrailer;
import dev.conveyor.promoter.domain.ChartIndex;
import dev.conveyor.promoter.domain.InvalidDocumentException;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.git.GitUrls;

/**
 * A classic chart repository kept in git (GitHub Pages style): the package and a regenerated {@code index.yaml} are
 * committed together and pushed with the same race handling as GitOps commits. Existing entries are kept; the index
 * refers to packages by relative URL, so the repository can be served from any address.
 */
public final class GitIndexChartRepository implements ChartRepository {

    private final String id;
    private final String url;
    private final String gitRepo;
    private final String branch;
    private final String directory;
    private final GitCommitter committer;
    private final Clock clock;

    /**
     * @param url the HTTP address the repository is served from (what {@code helm repo add} is given)
     * @param gitRepo the git repository holding it
     * @param directory the directory inside the git repository, empty for the root
     */
    public GitIndexChartRepository(String id, String url, String gitRepo, String branch, String directory,
            GitCommitter committer, Clock clock) {
        this.id = id;
        this.url = url;
        this.gitRepo = gitRepo;
        this.branch = branch;
        this.directory = directory.isEmpty() || directory.endsWith("/") ? directory : directory + "/";
        this.committer = committer;
        this.clock = clock;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String url() {
        return GitUrls.redact(url);
    }

    @Override
    public Outcome publish(PackagedChart chart, String runId) {
        byte[] tgz;
        try {
            tgz = Files.readAllBytes(chart.file());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        String indexPath = directory + "index.yaml";
        GitCommitter.Committed committed = committer.commit(gitRepo, branch, "Publish chart " + chart.name() + " "
                + chart.version(), "Digest: " + chart.digest(), RunTrailer.of(runId), current -> {
                    Optional<String> existing = current.read(indexPath).map(b -> new String(b,
                            StandardCharsets.UTF_8));
                    ChartIndex.Result result;
                    try {
                        result = ChartIndex.add(existing, chart.metadata(), chart.digestHex(), chart.fileName(),
                                clock.instant());
                    } catch (ChartIndex.VersionConflict e) {
                        throw StageException.terminal(Failure.CHART_VERSION_CONFLICT, e.getMessage() + " ("
                                + url() + ")", Map.of("repository", id));
                    } catch (InvalidDocumentException e) {
                        throw StageException.terminal(Failure.CHART_REPO_ERROR, e.getMessage() + " (" + url()
                                + ")", Map.of("repository", id));
                    }
                    TreeChange change = new TreeChange();
                    if (result.outcome() == ChartIndex.Outcome.ADDED) {
                        change.write(indexPath, result.text().getBytes(StandardCharsets.UTF_8));
                    }
                    // The package is (re)written either way: a missing or damaged file is repaired.
                    change.write(directory + chart.fileName(), tgz);
                    return change;
                });
        return committed.created() ? Outcome.PUBLISHED : Outcome.ALREADY_PUBLISHED;
    }
}
