package dev.conveyor.events.v1;

import java.time.Instant;

/**
 * The promoter wrote the chart and the release into one GitOps repository for one environment. One event per target.
 *
 * @param run the run this event belongs to
 * @param occurredAt when it happened
 * @param causationId the CloudEvents id of the event this one answers
 * @param chartName the chart's name
 * @param chartVersion the chart version promoted
 * @param gitopsRepo the GitOps repository's URL
 * @param environment the environment's name from platform configuration, e.g. {@code staging}
 * @param namespace the namespace the release deploys to
 * @param release the release's name
 * @param gitopsCommit the GitOps commit that carries the change (the pull request's head in pull-request mode)
 * @param mode whether it was pushed to the branch or opened as a pull request
 * @param pullRequestUrl the pull request, in pull-request mode
 */
public record ReleasePromoted(
        PipelineRun run,
        Instant occurredAt,
        @Nullable String causationId,
        String chartName,
        String chartVersion,
        String gitopsRepo,
        String environment,
        String namespace,
        String release,
        String gitopsCommit,
        PromotionMode mode,
        @Nullable String pullRequestUrl) implements ConveyorEvent {

    public ReleasePromoted {
        Checks.required(run, "run");
        Checks.required(occurredAt, "occurredAt");
        Checks.required(chartName, "chartName");
        Checks.required(chartVersion, "chartVersion");
        Checks.required(gitopsRepo, "gitopsRepo");
        Checks.required(environment, "environment");
        Checks.required(namespace, "namespace");
        Checks.required(release, "release");
        Checks.required(gitopsCommit, "gitopsCommit");
        Checks.required(mode, "mode");
        if (mode == PromotionMode.PULL_REQUEST) {
            Checks.required(pullRequestUrl, "pullRequestUrl");
        }
    }

    @Override
    public String discriminator() {
        return gitopsRepo + "#" + environment + "#" + namespace + "/" + release;
    }
}
