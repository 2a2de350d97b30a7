package dev.conveyor.manifests.service;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Repository;
import org.jboss.logging.Logger;

import com.marcnuri.helm.LintResult;

import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.RunTrailer;
import dev.conveyor.manifests.client.HelmRenderer;
import dev.conveyor.manifests.client.ManifestsCommitter;
import dev.conveyor.manifests.client.RepoFiles;
import dev.conveyor.manifests.client.YamlGuard;
import dev.conveyor.manifests.domain.AppManifestConfig;
import dev.conveyor.manifests.domain.ManifestInputException;
import dev.conveyor.manifests.domain.ManifestParser;
import dev.conveyor.manifests.domain.ManifestSet;
import dev.conveyor.manifests.domain.Problem;
import dev.conveyor.manifests.domain.RenderedDiff;
import dev.conveyor.manifests.domain.RenderedObject;
import dev.conveyor.manifests.domain.RepoPaths;
import dev.conveyor.manifests.domain.SecretRedactor;
import dev.conveyor.manifests.domain.ValidationReport;
import dev.conveyor.manifests.domain.Validator;
import dev.conveyor.manifests.domain.schema.BuiltinSchemas;
import dev.conveyor.manifests.domain.schema.SchemaRegistry;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.config.ConveyorYaml;
import dev.conveyor.stage.config.InvalidConfigException;
import dev.conveyor.stage.git.GitFailure;
import dev.conveyor.stage.git.GitUrls;
import dev.conveyor.stage.git.PushRace;
import dev.conveyor.stage.git.RepoMirrors;

/**
 * The manifest renderer's stage logic. For an {@code ImagePushed}: fetch the app's mirror, copy the chart at the run's
 * commit out, set its version, lint it, render it with the image's values, validate every object offline; then in CD
 * commit the objects under {@code manifests/} (one file each) and push, re-applying on a fresh tip when the branch
 * moved; in CI render the base branch the same way and diff. Safe to run again: unchanged manifests make no commit.
 */
public final class RenderService {

    private static final Logger LOG = Logger.getLogger(RenderService.class);

    private final RepoMirrors mirrors;
    private final HelmRenderer helm;
    private final ManifestsCommitter committer;
    private final SecretRedactor redactor;
    private final BuiltinSchemas builtins;
    private final List<SchemaRegistry.SchemaLookup> locations;
    private final RenderSettings settings;
    private final Clock clock;
    private final PushRace race;

    public RenderService(RepoMirrors mirrors, HelmRenderer helm, ManifestsCommitter committer,
            SecretRedactor redactor, BuiltinSchemas builtins, List<SchemaRegistry.SchemaLookup> locations,
            RenderSettings settings,
            Clock clock, PushRace race) {
        this.mirrors = mirrors;
        this.helm = helm;
        this.committer = committer;
        this.redactor = redactor;
        this.builtins = builtins;
        this.locations = List.copyOf(locations);
        this.settings = settings;
        this.clock = clock;
        this.race = race;
    }

    /** A chart rendered and validated. */
    record Rendered(String chartName, List<RenderedObject> objects, ValidationReport report, int lintWarnings) {
    }

    /** Renders, validates and (CD) commits or (CI) diffs; failures are classified {@link StageException}s. */
    public ManifestsValidated render(ImagePushed image, String causationId) {
        ManifestsValidated done = renderQuietly(image, causationId);
        PipelineRun run = image.run();
        LOG.infof("[manifest-renderer] %s run %s: %d objects valid (%s), %s", run.app(), run.runId(),
                done.objectCount(), done.renderedDigest(), run.flow() == Flow.CD
                        ? (done.manifestsCommit() == null
                                ? "manifests unchanged"
                                : "committed " + done
                                        .manifestsCommit())
                        : "diff of " + (done.diff() == null ? 0 : done.diff().length()) + " characters");
        return done;
    }

    /** The same rules and settings with other git plumbing and work directory: the warm-up's, in its scratch space. */
    RenderService with(RepoMirrors otherMirrors, ManifestsCommitter otherCommitter, PushRace otherRace,
            Path workDir) {
        RenderSettings s = settings;
        RenderSettings scratch = new RenderSettings(workDir, s.kubernetesVersion(), s.defaultNamespace(), s
                .defaultBaseBranch(), s.manifestsDir(), s.validation(), s.limits(), s.lint(), s.maxDiffChars(),
                s
                        .maxProblemsInMessage(),
                s.maxFileBytes(), s.maxFiles(), s.committerName(), s
                        .committerEmail());
        return new RenderService(otherMirrors, helm, otherCommitter, redactor, builtins, locations, scratch, clock,
                otherRace);
    }

    /**
     * {@link #render} without the run's log line: the warm-up ({@code RendererWarmUp}) runs the same path on a
     * throw-away repository, which must not show up as a run.
     */
    ManifestsValidated renderQuietly(ImagePushed image, String causationId) {
        PipelineRun run = image.run();
        String url = run.repoUrl();
        ReentrantLock lock = mirrors.lock(url);
        lock.lock();
        try (Repository repo = mirrors.fetch(url)) {
            ObjectId commit = resolve(repo, run.commit()).orElseThrow(() -> StageException.terminal(
                    RendererFailure.UNKNOWN_COMMIT, "commit " + run.commit() + " is not in " + GitUrls.redact(url),
                    Map.of("commit", run.commit())));
            AppManifestConfig config = config(repo, commit, run.app());
            Rendered rendered = renderAt(repo, commit, config, image);
            if (!rendered.report().valid()) {
                ValidationReport report = rendered.report();
                throw StageException.terminal(RendererFailure.INVALID_MANIFESTS, report.errors().size()
                        + " problem(s) in the rendered manifests of " + config.chartPath() + ":\n" + report.summary(
                                settings.maxProblemsInMessage()),
                        Map.of("problems", String.valueOf(report.errors().size()), "chartPath", config.chartPath()));
            }
            int warnings = rendered.report().warnings().size() + rendered.lintWarnings();
            // Validation saw the real values; everything written from here on (the commit, the diff, the digest in the
            // event) sees only the redacted files.
            ManifestSet files = redactor.files(run.app(), rendered.objects());
            String manifestsCommit = null;
            String diff = null;
            if (run.flow() == Flow.CD) {
                manifestsCommit = commitManifests(run, image.version(), files);
            } else {
                diff = diffAgainstBase(repo, config, image, files);
            }
            return new ManifestsValidated(run, clock.instant(), causationId, image.version(), image.repository(),
                    image.digest(), rendered.chartName(), config.chartPath(), manifestsCommit, files.size(),
                    files.digest(), diff, warnings);
        } catch (IOException e) {
            throw GitFailure.classify(e, url);
        } finally {
            lock.unlock();
        }
    }

    private AppManifestConfig config(Repository repo, ObjectId commit, String app) throws IOException {
        try {
            RepoFiles files = files(repo, commit);
            ConveyorYaml yaml = files.read(ConveyorYaml.FILE_NAME).map(ConveyorYaml::parse).orElse(ConveyorYaml
                    .empty());
            return AppManifestConfig.from(yaml, app, settings.defaultNamespace(), settings.defaultBaseBranch());
        } catch (RepoPaths.EscapingPath e) {
            throw StageException.terminal(RendererFailure.CHART_PATH_ESCAPES, e.getMessage(), Map.of("field", e
                    .field()));
        } catch (InvalidConfigException e) {
            throw StageException.terminal(RendererFailure.INVALID_CONFIG, e.getMessage(), Map.of("field", e.field()));
        } catch (RepoFiles.UnsafeContent e) {
            throw StageException.terminal(RendererFailure.UNSAFE_CHART, e.getMessage(), Map.of("field",
                    ConveyorYaml.FILE_NAME));
        }
    }

    /** Copies the chart out at {@code commit}, lints, renders and validates it. */
    Rendered renderAt(Repository repo, ObjectId commit, AppManifestConfig config, ImagePushed image)
            throws IOException {
        Files.createDirectories(settings.workDir());
        Path work = Files.createTempDirectory(settings.workDir(), "render-");
        try {
            RepoFiles files = files(repo, commit);
            if (files.read(join(config.chartPath(), "Chart.yaml")).isEmpty()) {
                throw StageException.terminal(RendererFailure.CHART_NOT_FOUND, "no Chart.yaml in "
                        + (config.chartPath().isEmpty() ? "the repository root" : config.chartPath() + "/")
                        + " at commit " + commit.name(), Map.of("field", "manifests.chart"));
            }
            Path chartDir = work.resolve("chart");
            files.copyTo(config.chartPath(), chartDir);
            YamlGuard.checkFile(chartDir.resolve("values.yaml"), join(config.chartPath(), "values.yaml"));
            String chartName = HelmRenderer.setChartVersion(chartDir, image.version());
            List<Path> values = new ArrayList<>();
            for (int i = 0; i < config.valuesFiles().size(); i++) {
                String file = config.valuesFiles().get(i);
                String text = files.read(file).orElseThrow(() -> StageException.terminal(
                        RendererFailure.INVALID_CONFIG, "values overlay " + file + " does not exist at the commit",
                        Map.of("field", "manifests.values")));
                YamlGuard.check(text, file);
                Path copy = work.resolve("overlay-" + i + ".yaml");
                Files.writeString(copy, text);
                values.add(copy);
            }
            Map<String, String> imageValues = new LinkedHashMap<>();
            imageValues.put(config.imageRepositoryKey(), image.repository());
            imageValues.put(config.imageTagKey(), image.version());
            imageValues.put(config.imageDigestKey(), image.digest());
            values.add(HelmRenderer.writeValues(work.resolve("conveyor-image.yaml"), imageValues));

            // The app's own Kubernetes version (.conveyor.yaml) over the service's.
            String kubernetesVersion = config.kubernetesVersion().orElse(settings.kubernetesVersion());
            BuiltinSchemas schemas = config.kubernetesVersion().isPresent()
                    ? BuiltinSchemas.cached(kubernetesVersion)
                    : builtins;
            String output = helm.template(new HelmRenderer.Request(chartDir, config.releaseName(), config
                    .namespace(), values, kubernetesVersion));

            ManifestParser parser = new ManifestParser(settings.limits());
            ManifestParser.Result parsed = parser.parse(output, chartName + "/<rendered>");
            int lintWarnings = 0;
            if (settings.lint()) {
                LintResult lint = helm.lint(chartDir, values);
                List<String> messages = lint.getMessages() == null ? List.of() : lint.getMessages();
                lintWarnings = (int) messages.stream().filter(m -> m.startsWith("[WARNING]")).count();
                if (lint.isFailed()) {
                    throw StageException.terminal(RendererFailure.LINT_FAILED, "helm lint --strict failed for "
                            + config.chartPath() + ":\n" + String.join("\n", messages.stream().filter(m -> !m
                                    .startsWith("[INFO]")).limit(settings.maxProblemsInMessage()).map(m -> m
                                            .replace(chartDir.toString(), config.chartPath()))
                                    .toList()),
                            Map.of("chartPath", config.chartPath()));
                }
            }
            SchemaRegistry registry = new SchemaRegistry(schemas, locations);
            List<Problem> problems = new ArrayList<>(parsed.problems());
            // CRDs the chart installs (crds/) and the repository's CRD directories give custom resources a schema.
            List<String> crdDirs = new ArrayList<>();
            crdDirs.add(join(config.chartPath(), "crds"));
            crdDirs.addAll(config.crdPaths());
            for (String dir : crdDirs) {
                for (Map.Entry<String, String> file : files.readTree(dir).entrySet()) {
                    if (!file.getKey().endsWith(".yaml") && !file.getKey().endsWith(".yml") && !file.getKey()
                            .endsWith(".json")) {
                        continue;
                    }
                    ManifestParser.Result crds = parser.parse(file.getValue(), file.getKey());
                    problems.addAll(crds.problems());
                    for (RenderedObject crd : crds.objects()) {
                        if ("CustomResourceDefinition".equals(crd.kind())) {
                            problems.addAll(registry.addCrd(crd));
                        }
                    }
                }
            }
            ValidationReport report = new Validator(registry, settings.validation()).validate(parsed.objects(),
                    problems);
            // Namespaced objects without a namespace land in the release namespace, as `helm install` would put them.
            List<RenderedObject> placed = parsed.objects().stream().map(o -> placed(o, registry, config.namespace()))
                    .toList();
            return new Rendered(chartName, placed, report, lintWarnings);
        } catch (HelmRenderer.RenderTimeout e) {
            throw StageException.terminal(RendererFailure.RENDER_TIMEOUT, "helm could not render " + config
                    .chartPath() + ": " + e.getMessage(), Map.of("chartPath", config.chartPath()));
        } catch (YamlGuard.UnsafeYaml e) {
            throw StageException.terminal(RendererFailure.YAML_ALIAS_BOMB, e.getMessage(), Map.of("chartPath", config
                    .chartPath()));
        } catch (HelmRenderer.HelmFailure e) {
            // Helm's own YAML pass already refuses some alias bombs; they are bombs all the same.
            RendererFailure reason = e.getMessage().contains("excessive aliasing")
                    ? RendererFailure.YAML_ALIAS_BOMB
                    : RendererFailure.TEMPLATE_ERROR;
            throw StageException.terminal(reason, "helm could not render "
                    + config.chartPath() + ": " + e.getMessage().replace(work.toString() + "/", ""),
                    Map.of("chartPath", config.chartPath()));
        } catch (ManifestInputException e) {
            RendererFailure reason = e.reason() == ManifestInputException.Reason.OUTPUT_TOO_LARGE
                    ? RendererFailure.OUTPUT_TOO_LARGE
                    : RendererFailure.YAML_ALIAS_BOMB;
            throw StageException.terminal(reason, e.getMessage(), Map.of("chartPath", config.chartPath()));
        } catch (RepoFiles.UnsafeContent e) {
            throw StageException.terminal(RendererFailure.UNSAFE_CHART, e.getMessage(), Map.of("chartPath", config
                    .chartPath()));
        } finally {
            delete(work);
        }
    }

    private static RenderedObject placed(RenderedObject object, SchemaRegistry registry, String namespace) {
        return dev.conveyor.manifests.domain.ReleaseNamespace.place(object, registry, namespace);
    }

    private String commitManifests(PipelineRun run, String version, ManifestSet manifests) {
        String url = run.repoUrl();
        String branch = run.branch();
        String message = "chore(manifests): render " + version + " [skip ci]\n\n" + RunTrailer.of(run.runId()) + "\n";
        // Each round re-applies the same files on the branch's fresh tip.
        String commit = race.push(url, RendererFailure.MANIFESTS_PUSH_RACE, "the manifests on " + branch,
                (repo, round) -> {
                    ObjectId tip = resolve(repo, Constants.R_HEADS + branch).orElseThrow(() -> StageException.terminal(
                            RendererFailure.BRANCH_NOT_FOUND,
                            "branch " + branch + " does not exist in " + GitUrls.redact(
                                    url),
                            Map.of("branch", branch)));
                    Optional<String> made = commitOfRun(repo, tip, run.runId());
                    if (made.isPresent()) {
                        // Committed before (the input came again after a crash, or a replay): committing this run's
                        // manifests again on a newer tip would roll them back to its version.
                        return made;
                    }
                    PersonIdent ident = new PersonIdent(settings.committerName(), settings.committerEmail(),
                            clock.instant(),
                            ZoneOffset.UTC);
                    ManifestsCommitter.Result result = committer.commit(repo, url, branch, tip, settings.manifestsDir(),
                            manifests.files(), ident, message);
                    return switch (result.outcome()) {
                        // A rerun (replay, redelivery) finds its manifests already on the branch: report the commit that put
                        // them there, as the first run did, so the event is the same.
                        case UNCHANGED -> Optional.of(commitOfRun(repo, tip, run.runId()).orElse(NO_COMMIT));
                        case PUSHED -> Optional.of(result.commit().orElseThrow());
                        case REJECTED -> throw StageException.terminal(
                                RendererFailure.MANIFESTS_PUSH_DENIED, "the remote "
                                        + GitUrls.redact(url) + " refused the manifests commit on " + branch + ": "
                                        + result
                                                .remoteMessage().orElse("no reason given"),
                                Map.of("branch", branch));
                        case REJECTED_RACE -> Optional.empty();
                    };
                });
        return NO_COMMIT.equals(commit) ? null : commit;
    }

    /** Stands for "no commit of this run found" inside a push round, whose result cannot be null. */
    private static final String NO_COMMIT = "";

    /** The newest of the last {@value #RUN_COMMIT_SEARCH} commits from {@code tip} with the run's trailer. */
    private static Optional<String> commitOfRun(Repository repo, ObjectId tip, String runId) throws IOException {
        try (org.eclipse.jgit.revwalk.RevWalk walk = new org.eclipse.jgit.revwalk.RevWalk(repo)) {
            walk.markStart(walk.parseCommit(tip));
            int seen = 0;
            for (org.eclipse.jgit.revwalk.RevCommit c : walk) {
                if (RunTrailer.parse(c.getFullMessage()).contains(runId)) {
                    return Optional.of(c.name());
                }
                if (++seen >= RUN_COMMIT_SEARCH) {
                    break;
                }
            }
        }
        return Optional.empty();
    }

    private static final int RUN_COMMIT_SEARCH = 500;

    private String diffAgainstBase(Repository repo, AppManifestConfig config, ImagePushed image, ManifestSet head)
            throws IOException {
        String base = config.baseBranch();
        var baseCommit = resolve(repo, Constants.R_HEADS + base);
        ManifestSet baseSet;
        String note = "";
        if (baseCommit.isEmpty()) {
            baseSet = ManifestSet.ofFiles(Map.of());
            note = "Base branch " + base + " not found: every object is shown as added.\n";
        } else {
            try {
                // The same image and version on both sides: the diff shows what the pull request's chart changes.
                AppManifestConfig baseConfig = config(repo, baseCommit.get(), image.run().app());
                baseSet = redactor.files(image.run().app(), renderAt(repo, baseCommit.get(), baseConfig, image)
                        .objects());
            } catch (StageException e) {
                baseSet = ManifestSet.ofFiles(Map.of());
                note = "Base branch " + base + " could not be rendered (" + e.reason()
                        + "): every object is shown as added.\n";
            }
        }
        RenderedDiff diff = RenderedDiff.between(baseSet, head, Math.max(0, settings.maxDiffChars() - note
                .length()));
        return note + diff.text();
    }

    private java.util.Optional<ObjectId> resolve(Repository repo, String revision) throws IOException {
        try {
            return java.util.Optional.ofNullable(repo.resolve(revision + "^{commit}"));
        } catch (org.eclipse.jgit.errors.MissingObjectException | org.eclipse.jgit.errors.RevisionSyntaxException
                | org.eclipse.jgit.errors.IncorrectObjectTypeException e) {
            return java.util.Optional.empty();
        }
    }

    private RepoFiles files(Repository repo, ObjectId commit) throws IOException {
        return new RepoFiles(repo, commit, settings.maxFileBytes(), settings.maxFiles());
    }

    private static String join(String dir, String name) {
        return dir.isEmpty() ? name : dir + "/" + name;
    }

    private static void delete(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            LOG.warnf("cannot delete work directory %s: %s", dir, e.getMessage());
        }
    }
}
