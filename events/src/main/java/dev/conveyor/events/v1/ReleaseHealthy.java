package dev.conveyor.events.v1;

import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * A release's workloads finished rolling out after a sync.
 *
 * @param run the run this event belongs to
 * @param occurredAt when it happened
 * @param causationId the CloudEvents id of the event this one answers
 * @param gitopsRepo the GitOps repository's URL
 * @param revision the GitOps commit applied
 * @param namespace the release's namespace
 * @param release the release's name
 * @param workloads the workloads that became ready, as {@code Kind/name}
 */
public record ReleaseHealthy(
        PipelineRun run,
        Instant occurredAt,
        @Nullable String causationId,
        String gitopsRepo,
        String revision,
        String namespace,
        String release,
        List<String> workloads) implements ConveyorEvent {

    public ReleaseHealthy {
        Checks.required(run, "run");
        Checks.required(occurredAt, "occurredAt");
        Checks.required(gitopsRepo, "gitopsRepo");
        Checks.required(revision, "revision");
        Checks.required(namespace, "namespace");
        Checks.required(release, "release");
        workloads = Checks.list(workloads, "workloads");
    }

    @Override
    public String discriminator() {
        return gitopsRepo + "@" + revision + "#" + namespace + "/" + release;
    }

    /**
     * The run (id and attempt), the GitOps repository and the release ({@code namespace/release}): not the revision
     * nor the causation, so the outcome of one run's release reported again (after a restart, or by a later sync)
     * has the same id.
     */
    @JsonIgnore
    @Override
    public String identity() {
        return run.runId() + "\n" + run.attempt() + "\n" + RunIds.normalizeRepoUrl(gitopsRepo) + "\n" + namespace
                + "/" + release;
    }
}
