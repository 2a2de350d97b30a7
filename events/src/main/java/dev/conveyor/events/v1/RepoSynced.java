package dev.conveyor.events.v1;

import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * Flux-sync applied a GitOps revision that contains this run to the cluster. One event per run contained in the
 * revision, so each run's timeline shows when it reached the cluster.
 *
 * @param run the run this event belongs to
 * @param occurredAt when it happened
 * @param causationId the CloudEvents id of the event this one answers
 * @param gitopsRepo the GitOps repository's URL
 * @param revision the GitOps commit applied
 * @param runIds every run whose {@code Conveyor-Run:} trailer the revision newly contains
 * @param objects what the sync did to the cluster's objects
 */
public record RepoSynced(
        PipelineRun run,
        Instant occurredAt,
        @Nullable String causationId,
        String gitopsRepo,
        String revision,
        List<String> runIds,
        SyncSummary objects) implements ConveyorEvent {

    public RepoSynced {
        Checks.required(run, "run");
        Checks.required(occurredAt, "occurredAt");
        Checks.required(gitopsRepo, "gitopsRepo");
        Checks.required(revision, "revision");
        runIds = Checks.list(runIds, "runIds");
        Checks.required(objects, "objects");
    }

    @Override
    public String discriminator() {
        return gitopsRepo + "@" + revision;
    }

    /**
     * The run (id and attempt) and the GitOps repository it reached: not the revision (a run reported again after a
     * crash may be reported at a later revision) and not the causation (a poll or a webhook may report it instead of
     * its promotion). So every report of one run reaching one repository has the same id.
     */
    @JsonIgnore
    @Override
    public String identity() {
        return run.runId() + "\n" + run.attempt() + "\n" + RunIds.normalizeRepoUrl(gitopsRepo);
    }
}
