package dev.conveyor.promoter.service;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

import org.eclipse.jgit.errors.IncorrectObjectTypeException;
import org.eclipse.jgit.errors.MissingObjectException;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.jboss.logging.Logger;

import dev.conveyor.events.v1.ChartPublished;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.PromotionMode;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.RunTrailer;
import dev.conveyor.promoter.client.ChartPackager;
import dev.conveyor.promoter.client.ChartRepository;
import dev.conveyor.promoter.client.ChartSource;
import dev.conveyor.promoter.client.GitCommitter;
import dev.conveyor.promoter.client.GitHubPullRequests;
import dev.conveyor.promoter.client.GitTree;
import dev.conveyor.promoter.client.PackagedChart;
import dev.conveyor.promoter.client.TreeChange;
import dev.conveyor.promoter.domain.InvalidDocumentException;
import dev.conveyor.promoter.domain.PromotionTarget;
import dev.conveyor.promoter.domain.ReleaseDocuments;
import dev.conveyor.promoter.domain.ReleaseKind;
import dev.conveyor.promoter.domain.ReleaseUpdate;
import dev.conveyor.promoter.domain.TargetRule;
import dev.conveyor.promoter.domain.Targets;
import dev.conveyor.promoter.domain.YamlText;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.config.ConveyorYaml;
import dev.conveyor.stage.config.InvalidConfigException;
import dev.conveyor.stage.git.GitFailure;
import dev.conveyor.stage.git.GitUrls;
import dev.conveyor.stage.git.RepoMirrors;

/**
 * The promoter's stage logic for one CD run: take the chart from the app repository at the run's commit, package it at
 * the run's version, publish it to every chart repository configured for the app, then write the chart and the release
 * object into every GitOps repository and environment that subscribes to it — pushed to the branch, or opened as a
 * pull request. Every effect is idempotent, so the same input handled again publishes nothing, commits nothing and
 * emits the same events.
 */
public final class PromotionService {

    private static final Logger LOG = Logger.getLogger(PromotionService.class);

    /** Everything the service is configured with. */
    public record Settings(List<ChartRepositoryRule> chartRepositories, List<TargetRule> targets,
            Set<String> knownGitopsRepos, String defaultBranch, String fluxV2Source, Path workDir) {
    }

    private final RepoMirrors appMirrors;
    private final ChartPackager packager;
    private final GitCommitter gitops;
    private final GitHubPullRequests pullRequests;
    private final Settings settings;
    private final Clock clock;
    /** No run log lines: the warm-up's copy ({@code PromoterWarmUp}), whose work must not show up as a run. */
    private final boolean quiet;

    public PromotionService(RepoMirrors appMirrors, ChartPackager packager, GitCommitter gitops,
            GitHubPullRequests pullRequests, Settings settings, Clock clock) {
        this(appMirrors, packager, gitops, pullRequests, settings, clock, false);
    }

    private PromotionService(RepoMirrors appMirrors, ChartPackager packager, GitCommitter gitops,
            GitHubPullRequests pullRequests, Settings settings, Clock clock, boolean quiet) {
        this.appMirrors = appMirrors;
        this.packager = packager;
        this.gitops = gitops;
        this.pullRequests = pullRequests;
        this.settings = settings;
        this.clock = clock;
        this.quiet = quiet;
    }

    /** The same packager with other git plumbing and settings, logging no run: the warm-up's, in its scratch space. */
    PromotionService quietWith(RepoMirrors otherAppMirrors, GitCommitter otherGitops, Settings otherSettings) {
        return new PromotionService(otherAppMirrors, packager, otherGitops, pullRequests, otherSettings, clock, true);
    }

    /** Publishes and promotes the run's chart; CI runs produce nothing. Failures are {@link StageException}s. */
    public List<ConveyorEvent> promote(ManifestsValidated input, String causationId) {
        PipelineRun run = input.run();
        if (run.flow() != Flow.CD) {
            return List.of();
        }
        Path work = null;
        try {
            work = Files.createDirectories(settings.workDir()).resolve(run.runId() + "-" + Long.toHexString(System
                    .nanoTime()));
            Path chartDir = Files.createDirectories(work.resolve("chart"));
            ConveyorYaml appConfig = checkout(run, input.chartPath(), chartDir);
            List<PromotionTarget> targets = targets(appConfig, run.app(), input.chartName());
            PackagedChart chart = packager.packageChart(chartDir, input.chartName(), input.version(), Files
                    .createDirectories(work.resolve("package")));

            List<String> published = new ArrayList<>();
            for (ChartRepositoryRule rule : settings.chartRepositories()) {
                if (rule.matches(run.app(), chart.name())) {
                    ChartRepository.Outcome outcome = rule.repository().publish(chart, run.runId());
                    if (!quiet) {
                        LOG.infof("[promoter] %s run %s: chart %s %s %s to %s", run.app(), run.runId(), chart.name(),
                                chart.version(), outcome == ChartRepository.Outcome.PUBLISHED
                                        ? "published"
                                        : "already published",
                                rule.repository().url());
                    }
                    published.add(rule.repository().url());
                }
            }
            List<ConveyorEvent> out = new ArrayList<>();
            out.add(new ChartPublished(run, clock.instant(), causationId, chart.name(), chart.version(), chart
                    .digest(), published, input.imageRepository(), input.imageDigest()));

            Map<String, byte[]> chartFiles = files(chartDir);
            for (PromotionTarget target : targets) {
                out.add(promoteTo(input, causationId, target, chartFiles));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            delete(work);
        }
    }

    private ConveyorYaml checkout(PipelineRun run, String chartPath, Path chartDir) throws IOException {
        ReentrantLock lock = appMirrors.lock(run.repoUrl());
        lock.lock();
        try (Repository repo = appMirrors.fetch(run.repoUrl()); RevWalk walk = new RevWalk(repo)) {
            RevCommit commit;
            try {
                commit = walk.parseCommit(ObjectId.fromString(run.commit()));
            } catch (MissingObjectException | IncorrectObjectTypeException | IllegalArgumentException e) {
                throw StageException.terminal(PromoterFailure.UNKNOWN_COMMIT, "commit " + run.commit()
                        + " is not in " + GitUrls.redact(run.repoUrl()), Map.of("commit", run.commit()));
            }
            ChartSource.extract(repo, commit, chartPath, chartDir);
            try (TreeWalk file = TreeWalk.forPath(repo, ConveyorYaml.FILE_NAME, commit.getTree())) {
                if (file == null) {
                    return ConveyorYaml.empty();
                }
                var loader = repo.open(file.getObjectId(0));
                if (loader.getSize() > ConveyorYaml.MAX_BYTES) {
                    throw StageException.terminal(PromoterFailure.INVALID_CONFIG, ConveyorYaml.FILE_NAME
                            + " is larger than " + ConveyorYaml.MAX_BYTES + " bytes",
                            Map.of("field",
                                    ConveyorYaml.FILE_NAME));
                }
                return ConveyorYaml.parse(new String(loader.getBytes(), StandardCharsets.UTF_8));
            } catch (InvalidConfigException e) {
                throw StageException.terminal(PromoterFailure.INVALID_CONFIG, e.getMessage(), Map.of("field", e
                        .field()));
            }
        } catch (IOException e) {
            throw GitFailure.classify(e, run.repoUrl());
        } finally {
            lock.unlock();
        }
    }

    private List<PromotionTarget> targets(ConveyorYaml appConfig, String app, String chart) {
        if (!PromotionTarget.validChartName(chart)) {
            throw StageException.terminal(ChartSource.Failure.CHART_INVALID, "chart name " + chart
                    + " must be a lowercase DNS label: it becomes the directory charts/" + chart,
                    Map.of("field",
                            "chartName"));
        }
        try {
            return Targets.resolve(settings.targets(), appConfig, app, chart, settings.knownGitopsRepos(), settings
                    .defaultBranch());
        } catch (InvalidConfigException e) {
            throw StageException.terminal(PromoterFailure.INVALID_CONFIG, e.getMessage(), Map.of("field", e
                    .field()));
        } catch (InvalidDocumentException e) {
            throw StageException.terminal(PromoterFailure.INVALID_CONFIG, e.getMessage(), Map.of("field", e
                    .field()));
        }
    }

    private ReleasePromoted promoteTo(ManifestsValidated input, String causationId, PromotionTarget target,
            Map<String, byte[]> chartFiles) {
        PipelineRun run = input.run();
        ReleaseUpdate update = new ReleaseUpdate(input.chartName(), input.version(), target.namespace(), target
                .release(), input.imageRepository(), input.version(), input.imageDigest());
        GitCommitter.Edit edit = current -> change(current, target, update, chartFiles);
        String subject = "Promote " + target.release() + " " + input.version() + " to " + target.environment() + "/"
                + target.namespace();
        String body = "Chart " + input.chartName() + " " + input.version() + ", image " + update.imageReference()
                + "\nFrom " + GitUrls.redact(run.repoUrl()) + " at " + run.commit() + ".";
        String trailer = RunTrailer.of(run.runId());
        String gitopsCommit;
        String pullRequestUrl = null;
        if (target.mode() == PromotionMode.AUTO) {
            GitCommitter.Committed committed = gitops.commit(target.gitopsRepo(), target.branch(), subject, body,
                    trailer, edit);
            gitopsCommit = committed.commit();
            if (!quiet) {
                LOG.infof("[promoter] %s run %s: %s %s in %s (%s)", run.app(), run.runId(), target.label(),
                        committed.created() ? "committed" : "already promoted", GitUrls.redact(target.gitopsRepo()),
                        gitopsCommit);
            }
        } else {
            String head = "conveyor/" + target.environment() + "/" + target.release() + "-" + input.version();
            GitHubPullRequests.RepoSlug slug = GitHubPullRequests.slug(target.gitopsRepo());
            if (gitops.alreadyOn(target.gitopsRepo(), target.branch(), edit)) {
                // Replayed after the pull request was merged: report the merged change and its pull request.
                gitopsCommit = gitops.commit(target.gitopsRepo(), target.branch(), subject, body, trailer, edit)
                        .commit();
                pullRequestUrl = pullRequests.find(slug, head, "all").orElseThrow(() -> StageException.terminal(
                        PromoterFailure.RELEASE_INVALID, "branch " + target.branch() + " of " + GitUrls.redact(target
                                .gitopsRepo()) + " already holds " + target.label() + " " + input.version()
                                + " but no pull request from " + head + " exists",
                        Map.of("field", "mode")));
            } else {
                gitopsCommit = gitops.commitToOwnBranch(target.gitopsRepo(), target.branch(), head, subject, body,
                        trailer, edit).commit();
                pullRequestUrl = pullRequests.ensure(slug, head, target.branch(), subject, body + "\n\n" + trailer);
            }
            if (!quiet) {
                LOG.infof("[promoter] %s run %s: %s proposed in %s", run.app(), run.runId(), target.label(),
                        pullRequestUrl);
            }
        }
        return new ReleasePromoted(run, clock.instant(), causationId, input.chartName(), input.version(), GitUrls
                .redact(target.gitopsRepo()), target.environment(), target.namespace(), target.release(),
                gitopsCommit, target.mode(), pullRequestUrl);
    }

    /** The GitOps change: the chart under charts/<chart>/, the release object, and the namespace if missing. */
    private TreeChange change(GitTree current, PromotionTarget target, ReleaseUpdate update,
            Map<String, byte[]> chartFiles) throws IOException {
        TreeChange change = new TreeChange();
        String chartDir = "charts/" + update.chartName() + "/";
        change.replaceDirectory(chartDir);
        chartFiles.forEach((path, bytes) -> change.write(chartDir + path, bytes));

        Optional<Map.Entry<String, String>> existing = findRelease(current, target);
        String path;
        String text;
        try {
            if (existing.isPresent()) {
                path = existing.get().getKey();
                text = ReleaseDocuments.update(path, existing.get().getValue(), update);
            } else {
                path = target.defaultReleasePath();
                String source = target.kind() == ReleaseKind.FLUX_V2
                        ? settings.fluxV2Source()
                        : GitUrls.redact(
                                target.gitopsRepo());
                text = ReleaseDocuments.create(target.kind(), update, source, target.branch());
            }
        } catch (InvalidDocumentException e) {
            throw StageException.terminal(PromoterFailure.RELEASE_INVALID, e.getMessage(), Map.of("field", e
                    .field(), "gitopsRepo", GitUrls.redact(target.gitopsRepo())));
        }
        change.write(path, text.getBytes(StandardCharsets.UTF_8));
        if (!namespaceDeclared(current, target.namespace())) {
            change.write("namespaces/" + target.namespace() + ".yaml", ("apiVersion: v1\nkind: Namespace\n"
                    + "metadata:\n  name: " + target.namespace() + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return change;
    }

    /** The file (path and text) holding the target's release object, looked up by object name, not file name. */
    private static Optional<Map.Entry<String, String>> findRelease(GitTree current, PromotionTarget target)
            throws IOException {
        Optional<Map.Entry<String, String>> byDefaultName = Optional.empty();
        for (String path : current.list(target.releaseDirectory())) {
            if (!path.endsWith(".yaml") && !path.endsWith(".yml")) {
                continue;
            }
            String text = new String(current.read(path).orElseThrow(), StandardCharsets.UTF_8);
            try {
                YamlText doc = YamlText.parse(path, text);
                boolean release = ReleaseKind.of(doc.string("apiVersion").orElse(""), doc.string("kind").orElse(
                        "")).isPresent();
                if (release && target.release().equals(doc.string("metadata", "name").orElse(null))) {
                    return Optional.of(Map.entry(path, text));
                }
            } catch (InvalidDocumentException e) {
                if (path.equals(target.defaultReleasePath())) {
                    byDefaultName = Optional.of(Map.entry(path, text));
                }
            }
        }
        // A broken file where the release belongs is reported rather than silently replaced.
        return byDefaultName;
    }

    private static boolean namespaceDeclared(GitTree current, String namespace) throws IOException {
        for (String path : current.list("namespaces")) {
            Optional<byte[]> bytes = current.read(path);
            if (bytes.isEmpty()) {
                continue;
            }
            try {
                YamlText doc = YamlText.parse(path, new String(bytes.get(), StandardCharsets.UTF_8));
                if ("Namespace".equals(doc.string("kind").orElse(null)) && namespace.equals(doc.string("metadata",
                        "name").orElse(null))) {
                    return true;
                }
            } catch (InvalidDocumentException e) {
                // Multi-document or foreign files: the plain file-name check below decides.
            }
        }
        return current.read("namespaces/" + namespace + ".yaml").isPresent();
    }

    private static Map<String, byte[]> files(Path dir) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
                files.put(dir.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
            }
        }
        return files;
    }

    private static void delete(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.debugf("could not delete %s", dir);
        }
    }
}
