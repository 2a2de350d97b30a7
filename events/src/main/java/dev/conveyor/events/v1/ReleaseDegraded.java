package dev.conveyor.events.v1;

import java.time.Instant;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * A release's workloads did not become ready after a sync, or its upgrade failed.
 *
 * @param run the run this event belongs to
 * @param occurredAt when it happened
 * @param causationId the CloudEvents id of the event this one answers
 * @param gitopsRepo the GitOps repository's URL
 * @param revision the GitOps commit applied
 * @param namespace the release's namespace
 * @param release the release's name
 * @param reason a machine reason code, e.g. {@code RolloutTimeout} or {@code UpgradeFailed}
 * @param message what went wrong, for people
 */
public record ReleaseDegraded(
        PipelineRun run,
        Instant occurredAt,
        @Nullable String causationId,
        String gitopsRepo,
        String revision,
        String namespace,
        String release,
        String reason,
        String message) implements ConveyorEvent {

    public ReleaseDegraded {
        Checks.required(run, "run");
        Checks.required(occurredAt, "occurredAt");
        Checks.required(gitopsRepo, "gitopsRepo");
        Checks.required(revision, "revision");
        Checks.required(namespace, "namespace");
        Checks.required(release, "release");
        Checks.required(reason, "reason");
        Checks.required(message, "message");
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
