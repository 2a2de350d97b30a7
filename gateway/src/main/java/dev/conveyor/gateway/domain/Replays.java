package dev.conveyor.gateway.domain;

import java.time.Instant;

import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.VersionResolved;

/** Builds the events a replay re-publishes: a recorded input event, same run, a new attempt. */
public final class Replays {

    private Replays() {
    }

    /**
     * {@code recorded} as attempt {@code attempt} of its run, happening {@code now}. Everything else is kept, the
     * causation id included, so the stage that consumes it redoes exactly the same work; its CloudEvents id differs
     * from the original's because the attempt does.
     *
     * @throws IllegalArgumentException for an event that is no stage's input
     */
    public static ConveyorEvent withAttempt(ConveyorEvent recorded, int attempt, Instant now) {
        PipelineRun r = recorded.run();
        PipelineRun run = new PipelineRun(r.runId(), attempt, r.app(), r.repoUrl(), r.commit(), r.branch(),
                r.pullRequest(), r.flow());
        if (recorded instanceof BuildSucceeded e) {
            return new BuildSucceeded(run, now, e.causationId(), e.buildUrl(), e.artifact(), e.tests(),
                    e.pullRequestTitle());
        } else if (recorded instanceof VersionResolved e) {
            return new VersionResolved(run, now, e.causationId(), e.version(), e.tag(), e.taggedNow(),
                    e.previousVersion(), e.bump(), e.changes(), e.artifact());
        } else if (recorded instanceof ImagePushed e) {
            return new ImagePushed(run, now, e.causationId(), e.version(), e.repository(), e.tags(), e.digest(),
                    e.sizeBytes());
        } else if (recorded instanceof ManifestsValidated e) {
            return new ManifestsValidated(run, now, e.causationId(), e.version(), e.imageRepository(),
                    e.imageDigest(), e.chartName(), e.chartPath(), e.manifestsCommit(), e.objectCount(),
                    e.renderedDigest(), e.diff(), e.warnings());
        } else if (recorded instanceof ReleasePromoted e) {
            return new ReleasePromoted(run, now, e.causationId(), e.chartName(), e.chartVersion(), e.gitopsRepo(),
                    e.environment(), e.namespace(), e.release(), e.gitopsCommit(), e.mode(), e.pullRequestUrl());
        }
        throw new IllegalArgumentException(recorded.eventType().eventName() + " is no stage's input");
    }
}
