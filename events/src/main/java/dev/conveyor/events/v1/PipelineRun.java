package dev.conveyor.events.v1;

/**
 * The fields every event carries about the run it belongs to. Stages copy it from the event they consume into the
 * events they emit, so any event alone says which run, app and commit it is about.
 *
 * @param runId deterministic id of the run, from {@link RunIds#of}; a replay keeps it
 * @param attempt 1 for the first delivery of the run, incremented by each replay
 * @param app the app id: the repository slug, and the Kafka record key of every event of the app
 * @param repoUrl the app repository's clone URL (never with credentials in it)
 * @param commit the full commit id the run builds
 * @param branch the branch the commit was built on (the pull request's head branch in CI)
 * @param pullRequest the pull request number in CI; absent in CD
 * @param flow CI for a pull request, CD for the default branch
 */
public record PipelineRun(
        String runId,
        int attempt,
        String app,
        String repoUrl,
        String commit,
        String branch,
        @Nullable Integer pullRequest,
        Flow flow) {

    public PipelineRun {
        Checks.required(runId, "runId");
        Checks.atLeast(attempt, 1, "attempt");
        Checks.required(app, "app");
        Checks.required(repoUrl, "repoUrl");
        Checks.required(commit, "commit");
        Checks.required(branch, "branch");
        Checks.required(flow, "flow");
        if (flow == Flow.CI && pullRequest == null) {
            throw new InvalidFieldException("pullRequest", "is required when flow is CI");
        }
        if (pullRequest != null) {
            Checks.atLeast(pullRequest, 1, "pullRequest");
        }
    }

    /** A first attempt of the run for this build, with its deterministic id. */
    public static PipelineRun start(String app, String repoUrl, String commit, String branch, Integer pullRequest,
            Flow flow) {
        return new PipelineRun(RunIds.of(repoUrl, commit, flow, pullRequest), 1, app, repoUrl, commit, branch,
                pullRequest, flow);
    }

    /** The same run, one attempt later: what a replay publishes. */
    public PipelineRun nextAttempt() {
        return new PipelineRun(runId, attempt + 1, app, repoUrl, commit, branch, pullRequest, flow);
    }
}
