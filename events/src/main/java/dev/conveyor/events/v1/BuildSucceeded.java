package dev.conveyor.events.v1;

import java.time.Instant;

/**
 * Jenkins built and tested the app: the run starts. Emitted by the gateway from a Jenkins hook.
 *
 * @param run the run this event belongs to
 * @param occurredAt when it happened
 * @param causationId the CloudEvents id of the event this one answers
 * @param buildUrl the Jenkins build's page
 * @param artifact what was built, to turn into an image
 * @param tests test and lint results, when Jenkins reported them
 * @param pullRequestTitle the pull request's title in CI (JIRA keys are read from it)
 */
public record BuildSucceeded(
        PipelineRun run,
        Instant occurredAt,
        @Nullable String causationId,
        String buildUrl,
        Artifact artifact,
        @Nullable TestSummary tests,
        @Nullable String pullRequestTitle) implements ConveyorEvent {

    public BuildSucceeded {
        Checks.required(run, "run");
        Checks.required(occurredAt, "occurredAt");
        Checks.required(buildUrl, "buildUrl");
        Checks.required(artifact, "artifact");
    }
}
