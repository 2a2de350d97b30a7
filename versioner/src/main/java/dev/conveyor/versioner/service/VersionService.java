package dev.conveyor.versioner.service;

import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TimeZone;
import java.util.concurrent.locks.ReentrantLock;

import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.jboss.logging.Logger;

import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.config.ConveyorYaml;
import dev.conveyor.stage.config.InvalidConfigException;
import dev.conveyor.stage.git.GitFailure;
import dev.conveyor.stage.git.GitUrls;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.versioner.client.GitHistory;
import dev.conveyor.versioner.client.TagPublisher;
import dev.conveyor.versioner.domain.AppVersionConfig;
import dev.conveyor.versioner.domain.SemVer;
import dev.conveyor.versioner.domain.VersionCalculator;
import dev.conveyor.versioner.domain.VersionFiles;
import dev.conveyor.versioner.domain.VersionRequest;
import dev.conveyor.versioner.domain.VersionResolution;
import dev.conveyor.versioner.domain.VersionSettings;
import dev.conveyor.versioner.domain.VersionStrategy;
import dev.conveyor.versioner.domain.VersionTag;

/**
 * The versioner's stage logic: fetch the app's mirror, gather tags and commits, apply the version rules, and in CD tag
 * the commit and push the tag. A push that loses a race against another tagger is recomputed from a fresh fetch, so one
 * commit never gets two versions and one version never names two commits. Safe to run again on the same event: the
 * existing tag is found and reused.
 */
public final class VersionService {

    /** Called just before a tag push; lets tests put a competing tag on the remote at the worst moment. */
    @FunctionalInterface
    public interface BeforeTagPush {
        void beforePush(String url, String tagName);
    }

    /** Largest number of commits since the base that are examined for the bump. */
    static final int MAX_COMMITS = 50_000;

    private static final Logger LOG = Logger.getLogger(VersionService.class);

    private final RepoMirrors mirrors;
    private final TagPublisher publisher;
    private final String defaultPrefix;
    private final SemVer defaultInitial;
    private final String taggerName;
    private final String taggerEmail;
    private final int tagPushAttempts;
    private final Clock clock;
    private final BeforeTagPush beforeTagPush;

    public VersionService(RepoMirrors mirrors, TagPublisher publisher, String defaultPrefix, SemVer defaultInitial,
            String taggerName, String taggerEmail, int tagPushAttempts, Clock clock, BeforeTagPush beforeTagPush) {
        this.mirrors = mirrors;
        this.publisher = publisher;
        this.defaultPrefix = defaultPrefix;
        this.defaultInitial = defaultInitial;
        this.taggerName = taggerName;
        this.taggerEmail = taggerEmail;
        this.tagPushAttempts = tagPushAttempts;
        this.clock = clock;
        this.beforeTagPush = beforeTagPush;
    }

    /** Resolves (and in CD tags) the version of the build; failures are classified {@link StageException}s. */
    public VersionResolved resolve(BuildSucceeded build, String causationId) {
        PipelineRun run = build.run();
        String url = run.repoUrl();
        ReentrantLock lock = mirrors.lock(url);
        lock.lock();
        try {
            String rejectedTag = null;
            for (int round = 1;; round++) {
                try (Repository repo = mirrors.fetch(url)) {
                    Attempt attempt = compute(repo, run);
                    if (rejectedTag != null && !attempt.tagNames.contains(rejectedTag)) {
                        // Refused, yet the tag is not there: not a race but a rule on the remote.
                        throw StageException.terminal(VersionerFailure.TAG_PUSH_DENIED, "the remote "
                                + GitUrls.redact(url) + " refused tag " + rejectedTag + " without having it",
                                Map.of("tag", rejectedTag));
                    }
                    VersionResolution resolution = attempt.resolution;
                    boolean taggedNow = false;
                    if (run.flow() == Flow.CD && !resolution.existingTag()) {
                        beforeTagPush.beforePush(url, resolution.tagName());
                        TagPublisher.Result pushed = publisher.publish(repo, url, resolution.tagName(), attempt.commit,
                                new PersonIdent(taggerName, taggerEmail, clock.instant(), TimeZone.getTimeZone("UTC")
                                        .toZoneId()),
                                "Release " + resolution.version() + "\n\nConveyor-Run: " + run.runId() + "\n");
                        if (pushed.outcome() == TagPublisher.Outcome.REJECTED) {
                            LOG.warnf("[versioner] %s run %s: tag %s was rejected (%s), recomputing (round %d of %d)",
                                    run.app(), run.runId(), resolution.tagName(), pushed.remoteMessage().orElse(""),
                                    round,
                                    tagPushAttempts);
                            if (round >= tagPushAttempts) {
                                throw StageException.transientFailure(VersionerFailure.TAG_RACE, "tag "
                                        + resolution.tagName() + " kept being taken by another tagger after " + round
                                        + " attempts", null);
                            }
                            rejectedTag = resolution.tagName();
                            continue;
                        }
                        taggedNow = true;
                    }
                    LOG.infof("[versioner] %s run %s: %s %s (%s, previous %s)", run.app(), run.runId(),
                            taggedNow ? "tagged" : "resolved", resolution.version(), resolution.bump(),
                            resolution.previous());
                    return new VersionResolved(run, clock.instant(), causationId, resolution.version().toString(),
                            resolution.tagName(), taggedNow,
                            resolution.previous() == null ? null : resolution.previous().toString(), resolution.bump(),
                            resolution.changes(), build.artifact());
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private record Attempt(RevCommit commit, VersionResolution resolution, java.util.Set<String> tagNames) {
    }

    private Attempt compute(Repository repo, PipelineRun run) {
        try {
            GitHistory history = new GitHistory(repo);
            RevCommit commit = history.commit(run.commit()).orElseThrow(() -> StageException.terminal(
                    VersionerFailure.UNKNOWN_COMMIT, "commit " + run.commit() + " is not in " + GitUrls.redact(
                            run.repoUrl()),
                    Map.of("commit", run.commit())));
            VersionSettings settings = settings(history, commit, run);
            Optional<SemVer> fileVersion = fileVersion(history, commit, settings);

            Map<String, ObjectId> tags = history.tagCommits();
            List<String> ignored = new ArrayList<>();
            List<VersionTag> reachable = history.reachableVersionTags(commit, settings.tagPrefix(), tags, ignored);
            if (!ignored.isEmpty()) {
                LOG.warnf("[versioner] %s: ignoring tags that are not semantic versions: %s", run.app(), ignored);
            }
            List<VersionTag> onCommit = reachable.stream().filter(t -> t.commitId().equals(commit.name())).toList();
            Optional<VersionTag> base = VersionCalculator.base(reachable.stream()
                    .filter(t -> !t.commitId().equals(commit.name())).toList());
            var commits = history.commitsSince(commit, base.map(b -> ObjectId.fromString(b.commitId())),
                    !settings.paths().isEmpty(), MAX_COMMITS);
            VersionRequest request = new VersionRequest(run.flow(), run.pullRequest(), commit.name(), settings,
                    fileVersion, onCommit, base, commits, tags.keySet());
            return new Attempt(commit, VersionCalculator.resolve(request), tags.keySet());
        } catch (VersionCalculator.NothingToRelease e) {
            throw StageException.terminal(VersionerFailure.NOTHING_TO_RELEASE, e.getMessage());
        } catch (IOException e) {
            throw GitFailure.classify(e, run.repoUrl());
        }
    }

    private VersionSettings settings(GitHistory history, RevCommit commit, PipelineRun run) throws IOException {
        try {
            ConveyorYaml yaml = history.readFile(commit, ConveyorYaml.FILE_NAME).map(ConveyorYaml::parse)
                    .orElse(ConveyorYaml.empty());
            return AppVersionConfig.settingsFor(yaml, run.app(), defaultPrefix, defaultInitial);
        } catch (InvalidConfigException e) {
            throw StageException.terminal(VersionerFailure.INVALID_CONFIG, e.getMessage(), Map.of("field", e.field()));
        }
    }

    private static Optional<SemVer> fileVersion(GitHistory history, RevCommit commit, VersionSettings settings)
            throws IOException {
        if (settings.strategy() != VersionStrategy.FILE) {
            return Optional.empty();
        }
        String path = settings.versionFile();
        String content = history.readFile(commit, path).orElseThrow(() -> StageException.terminal(
                VersionerFailure.VERSION_FILE_INVALID, "version file " + path + " does not exist at the commit",
                Map.of("field", "version.file")));
        try {
            return Optional.of(VersionFiles.parse(path, content));
        } catch (InvalidConfigException e) {
            throw StageException.terminal(VersionerFailure.VERSION_FILE_INVALID, e.getMessage(),
                    Map.of("field", e.field()));
        }
    }
}
