package dev.conveyor.events.v1;

import java.time.Instant;

/**
 * Jenkins failed to build or test the app; the run ends here. Emitted by the gateway from a Jenkins hook.
 *
 * @param run the run this event belongs to
 * @param occurredAt when it happened
 * @param causationId the CloudEvents id of the event this one answers
 * @param buildUrl the Jenkins build's page
 * @param failedStep the pipeline step that failed, e.g. {@code test} or {@code lint}
 * @param reason what Jenkins said about the failure
 * @param tests test and lint results, when Jenkins reported them
 * @param pullRequestTitle the pull request's title in CI
 */
public record BuildFailed(
        PipelineRun run,
        Instant occurredAt,
        @Nullable String causationId,
        String buildUrl,
        String failedStep,
        String reason,
        @Nullable TestSummary tests,
        @Nullable String pullRequestTitle) implements ConveyorEvent {

    public BuildFailed {
        Checks.required(run, "run");
        Checks.required(occurredAt, "occurredAt");
        Checks.required(buildUrl, "buildUrl");
        Checks.required(failedStep, "failedStep");
        Checks.required(reason, "reason");
    }
}
