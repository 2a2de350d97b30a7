package dev.conveyor.events.v1;

import java.time.Instant;
import java.util.List;

/**
 * The versioner decided the run's version and, in CD, tagged the commit and pushed the tag.
 *
 * @param run the run this event belongs to
 * @param occurredAt when it happened
 * @param causationId the CloudEvents id of the event this one answers
 * @param version the semantic version without prefix, e.g. {@code 1.4.0} or {@code 1.4.0-pr.12.abc1234}
 * @param tag the git tag that carries it in CD, e.g. {@code v1.4.0}; absent in CI, where nothing is tagged
 * @param taggedNow whether this run created the tag (false when an existing tag was reused)
 * @param previousVersion the version the bump started from; absent for the first version
 * @param bump why the version is what it is
 * @param changes the subjects of the commits since the previous version, newest first
 * @param artifact the build artifact, carried on for the image builder
 */
public record VersionResolved(
        PipelineRun run,
        Instant occurredAt,
        @Nullable String causationId,
        String version,
        @Nullable String tag,
        boolean taggedNow,
        @Nullable String previousVersion,
        BumpReason bump,
        List<String> changes,
        Artifact artifact) implements ConveyorEvent {

    public VersionResolved {
        Checks.required(run, "run");
        Checks.required(occurredAt, "occurredAt");
        Checks.required(version, "version");
        Checks.required(bump, "bump");
        changes = Checks.list(changes, "changes");
        Checks.required(artifact, "artifact");
    }
}
