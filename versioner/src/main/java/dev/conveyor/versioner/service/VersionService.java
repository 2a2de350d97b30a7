package dev.conveyor.versioner.service;

import java.io.IOException;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.jboss.logging.Logger;

import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.RunTrailer;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.config.ConveyorYaml;
import dev.conveyor.stage.config.InvalidConfigException;
import dev.conveyor.stage.git.GitFailure;
import dev.conveyor.stage.git.GitUrls;
import dev.conveyor.stage.git.PushRace;
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

    /** Largest number of commits since the base that are examined for the bump. */
    static final int MAX_COMMITS = 50_000;

    private static final Logger LOG = Logger.getLogger(VersionService.class);

    private final PushRace race;
    private final TagPublisher publisher;
    private final String defaultPrefix;
    private final SemVer defaultInitial;
    private final String taggerName;
    private final String taggerEmail;
    private final Clock clock;

    /** @param race fetches the app's mirror for each round and runs the rounds of a tag push that lost a race */
    public VersionService(PushRace race, TagPublisher publisher, String defaultPrefix, SemVer defaultInitial,
            String taggerName, String taggerEmail, Clock clock) {
        this.race = race;
        this.publisher = publisher;
        this.defaultPrefix = defaultPrefix;
        this.defaultInitial = defaultInitial;
        this.taggerName = taggerName;
        this.taggerEmail = taggerEmail;
        this.clock = clock;
    }

    /** The same rules and tagger with other git plumbing: the warm-up's, on a throw-away repository. */
    VersionService with(PushRace otherRace, TagPublisher otherPublisher) {
        return new VersionService(otherRace, otherPublisher, defaultPrefix, defaultInitial, taggerName, taggerEmail,
                clock);
    }

    /** Resolves (and in CD tags) the version of the build; failures are classified {@link StageException}s. */
    public VersionResolved resolve(BuildSucceeded build, String causationId) {
        VersionResolved resolved = resolveQuietly(build, causationId);
        PipelineRun run = build.run();
        LOG.infof("[versioner] %s run %s: %s %s (%s, previous %s)", run.app(), run.runId(), resolved.taggedNow()
                ? "tagged"
                : "resolved", resolved.version(), resolved.bump(), resolved.previousVersion());
        return resolved;
    }

    /**
     * {@link #resolve} without the run's log line: the warm-up ({@code VersionerWarmUp}) runs the same path on a
     * throw-away repository, which must not show up as a run.
     */
    VersionResolved resolveQuietly(BuildSucceeded build, String causationId) {
        PipelineRun run = build.run();
        String url = run.repoUrl();
        AtomicReference<String> rejectedTag = new AtomicReference<>();
        return race.push(url, VersionerFailure.TAG_RACE, "the version tag of " + run.app(), (repo, round) -> {
            Attempt attempt = compute(repo, run);
            String rejected = rejectedTag.get();
            if (rejected != null && !attempt.tagNames.contains(rejected)) {
                // Refused, yet the tag is not there: not a race but a rule on the remote.
                throw StageException.terminal(VersionerFailure.TAG_PUSH_DENIED, "the remote " + GitUrls.redact(url)
                        + " refused tag " + rejected + " without having it", Map.of("tag", rejected));
            }
            VersionResolution resolution = attempt.resolution;
            boolean taggedNow = false;
            if (run.flow() == Flow.CD && !resolution.existingTag()) {
                TagPublisher.Result pushed = publisher.publish(repo, url, resolution.tagName(), attempt.commit,
                        new PersonIdent(taggerName, taggerEmail, clock.instant(), ZoneOffset.UTC),
                        "Release " + resolution.version() + "\n\n" + RunTrailer.of(run.runId()) + "\n");
                if (pushed.outcome() == TagPublisher.Outcome.REJECTED) {
                    LOG.warnf("[versioner] %s run %s: tag %s was rejected (%s), recomputing (round %d)", run.app(),
                            run.runId(), resolution.tagName(), pushed.remoteMessage().orElse(""), round);
                    rejectedTag.set(resolution.tagName());
                    return Optional.empty();
                }
                taggedNow = true;
            }
            return Optional.of(new VersionResolved(run, clock.instant(), causationId, resolution.version().toString(),
                    resolution.tagName(), taggedNow,
                    resolution.previous() == null ? null : resolution.previous().toString(), resolution.bump(),
                    resolution.changes(), build.artifact()));
        });
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
