package dev.conveyor.notifier.service;

import java.util.List;

import dev.conveyor.events.v1.Flow;
import dev.conveyor.notifier.domain.Deployment;
import dev.conveyor.notifier.domain.Failure;
import dev.conveyor.notifier.domain.RunState;
import dev.conveyor.notifier.domain.StatusState;
import io.quarkus.qute.TemplateData;

/**
 * What templates see of a run ({@code run}): strings are never null (empty when unknown), so an override template
 * needs no null checks.
 */
@TemplateData
public record RunView(String app, String runId, int attempt, String flow, String commit, String shortCommit,
        String branch, String pullRequest, String pullRequestTitle, String checks, String version, String tag,
        String image,
        String imageDigest, String chart, String objectCount, String warnings, String diff, boolean diffTruncated,
        String runUrl, String buildUrl, String status, String icon, String health, List<StageView> stages,
        List<FailureView> failures, List<DeploymentView> deployments, List<String> jiraKeys) {

    /** One stage's line: name, {@code pending}/{@code success}/{@code failure} and an emoji. */
    @TemplateData
    public record StageView(String name, String state, String icon) {
    }

    @TemplateData
    public record FailureView(String stage, String reason, String message) {
        static FailureView of(Failure f) {
            return new FailureView(f.stage(), f.reason(), nz(f.message()));
        }
    }

    @TemplateData
    public record DeploymentView(String environment, String gitopsRepo, String namespace, String release,
            String chartVersion, String revision, boolean synced) {
        static DeploymentView of(Deployment d) {
            return new DeploymentView(nz(d.environment()), nz(d.gitopsRepo()), nz(d.namespace()), nz(d.release()),
                    nz(d.chartVersion()), nz(d.revision()), d.synced());
        }
    }

    static RunView of(RunState s, String runUrlPattern, int maxDiffChars) {
        String diff = nz(s.diff);
        boolean truncated = diff.length() > maxDiffChars;
        if (truncated) {
            diff = diff.substring(0, maxDiffChars);
        }
        String image = s.imageRepository == null || s.imageDigest == null
                ? ""
                : s.imageRepository + "@" + s.imageDigest;
        List<Deployment> deployments = s.shownDeployments();
        boolean deployed = deployments.stream().anyMatch(Deployment::synced);
        boolean finished = deployed || (s.flow == Flow.CI
                && s.stages.get("manifest-renderer") == StatusState.SUCCESS);
        String status = s.failed() ? "failed" : deployed ? "deployed" : finished ? "succeeded" : "running";
        String icon = switch (status) {
            case "failed" -> "❌";
            case "running" -> "⏳";
            default -> "✅";
        };
        List<StageView> stages = s.stages.entrySet().stream()
                .map(e -> new StageView(e.getKey(), e.getValue().name().toLowerCase(java.util.Locale.ROOT),
                        icon(e.getValue())))
                .toList();
        return new RunView(s.app, s.runId, s.attempt, s.flow.name(), s.commit,
                s.commit.length() > 7 ? s.commit.substring(0, 7) : s.commit, s.branch,
                s.pullRequest == null ? "" : s.pullRequest.toString(), nz(s.pullRequestTitle), nz(s.checks),
                nz(s.version),
                nz(s.tag), image, nz(s.imageDigest), nz(s.chartName),
                s.objectCount == null ? "" : s.objectCount.toString(), s.warnings == null ? "" : s.warnings.toString(),
                diff, truncated, runUrlPattern.replace("{runId}", s.runId), nz(s.buildUrl), status, icon, nz(s.health),
                stages, s.failures.stream().map(FailureView::of).toList(),
                deployments.stream().map(DeploymentView::of).toList(), List.copyOf(s.jiraKeys));
    }

    static String icon(StatusState state) {
        return switch (state) {
            case PENDING -> "⏳";
            case SUCCESS -> "✅";
            case FAILURE -> "❌";
        };
    }

    static String nz(String s) {
        return s == null ? "" : s;
    }
}
