package dev.conveyor.gateway.support;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.conveyor.events.v1.Artifact;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.BumpReason;
import dev.conveyor.events.v1.ChartPublished;
import dev.conveyor.events.v1.CloudEventAttributes;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.PromotionMode;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.StageFailed;
import dev.conveyor.events.v1.SyncSummary;
import dev.conveyor.events.v1.TestSummary;
import dev.conveyor.events.v1.VersionResolved;

/**
 * The events of one pipeline run, as the stages emit them: each answers the previous one (causation id) and happens
 * a few seconds later.
 */
public final class RunEvents {

    public static final String SHA = "ab".repeat(32);
    public static final String DIGEST = "sha256:" + "cd".repeat(32);
    public static final String RENDERED = "sha256:" + "ef".repeat(32);

    private final PipelineRun run;
    private final Instant start;

    private RunEvents(PipelineRun run, Instant start) {
        this.run = run;
        this.start = start;
    }

    /** A CD run of {@code app} on main for a commit derived from {@code seed}. */
    public static RunEvents cd(String app, int seed, Instant start) {
        return new RunEvents(PipelineRun.start(app, "https://git.example.com/org/" + app + ".git", commit(seed),
                "main", null, Flow.CD), start);
    }

    /** A CI run (pull request 7) of {@code app}. */
    public static RunEvents ci(String app, int seed, Instant start) {
        return new RunEvents(PipelineRun.start(app, "https://git.example.com/org/" + app + ".git", commit(seed),
                "feature/x", 7, Flow.CI), start);
    }

    public static String commit(int seed) {
        return String.format("%040x", seed);
    }

    /** The same run as attempt {@code attempt}, its events starting at {@code start}. */
    public RunEvents again(int attempt, Instant start) {
        return new RunEvents(new PipelineRun(run.runId(), attempt, run.app(), run.repoUrl(), run.commit(),
                run.branch(), run.pullRequest(), run.flow()), start);
    }

    public PipelineRun run() {
        return run;
    }

    public BuildSucceeded build() {
        return new BuildSucceeded(run, at(0), null, "https://jenkins.example.com/job/" + run.app() + "/1/",
                new Artifact("https://jenkins.example.com/job/" + run.app() + "/1/artifact/app.jar", SHA, 10L, "jar"),
                new TestSummary(12, 0, 1, 0, 2), run.pullRequest() == null ? null : "ABC-1 feature");
    }

    public VersionResolved version() {
        boolean cd = run.flow() == Flow.CD;
        return new VersionResolved(run, at(2), id(build()), cd ? "1.3.0" : "1.3.0-pr.7.aaaaaaa",
                cd ? "v1.3.0" : null, cd, "1.2.0", cd ? BumpReason.MINOR : BumpReason.PRERELEASE,
                List.of("feat: cart"), build().artifact());
    }

    public ImagePushed image() {
        return new ImagePushed(run, at(5), id(version()), version().version(), "registry.example.com/" + run.app(),
                List.of(version().version()), DIGEST, 1234);
    }

    public ManifestsValidated manifests() {
        boolean cd = run.flow() == Flow.CD;
        return new ManifestsValidated(run, at(9), id(image()), version().version(), image().repository(), DIGEST,
                run.app(), "chart", cd ? commit(9001) : null, 4, RENDERED, cd ? null : "+ image", 0);
    }

    public ChartPublished chart() {
        return new ChartPublished(run, at(12), id(manifests()), run.app(), "1.3.0", DIGEST,
                List.of("oci://charts.example.com/" + run.app()), image().repository(), DIGEST);
    }

    public ReleasePromoted promoted(String environment) {
        return new ReleasePromoted(run, at(14), id(manifests()), run.app(), "1.3.0",
                "https://git.example.com/org/flux-" + environment + ".git", environment, "apps", run.app(),
                commit(7000 + environment.length()), PromotionMode.AUTO, null);
    }

    public RepoSynced synced() {
        return new RepoSynced(run, at(20), id(promoted("prod")), promoted("prod").gitopsRepo(), commit(7004),
                List.of(run.runId()), new SyncSummary(1, 2, 3, 0));
    }

    public ReleaseHealthy healthy() {
        return new ReleaseHealthy(run, at(30), id(synced()), promoted("prod").gitopsRepo(), commit(7004), "apps",
                run.app(), List.of("Deployment/" + run.app()));
    }

    public StageFailed failed(Stage stage, int secondsIn) {
        return new StageFailed(run, at(secondsIn), null, stage, "REGISTRY_DENIED", false, "push refused",
                Map.of("registry", "registry.example.com"));
    }

    /** Every event of a successful run of this flow, in pipeline order. */
    public List<ConveyorEvent> all() {
        List<ConveyorEvent> events = new ArrayList<>(List.of(build(), version(), image(), manifests()));
        if (run.flow() == Flow.CD) {
            events.addAll(List.of(chart(), promoted("prod"), synced(), healthy()));
        }
        return events;
    }

    private Instant at(int seconds) {
        return start.plusSeconds(seconds);
    }

    private static String id(ConveyorEvent event) {
        return CloudEventAttributes.idOf(event);
    }

    /** The CloudEvents source of the stage that emits {@code event}. */
    public static String sourceOf(ConveyorEvent event) {
        return switch (event.eventType()) {
            case BUILD_SUCCEEDED, BUILD_FAILED -> Stage.GATEWAY.source();
            case VERSION_RESOLVED -> Stage.VERSIONER.source();
            case IMAGE_PUSHED -> Stage.IMAGE_BUILDER.source();
            case MANIFESTS_VALIDATED -> Stage.MANIFEST_RENDERER.source();
            case CHART_PUBLISHED, RELEASE_PROMOTED -> Stage.PROMOTER.source();
            case REPO_SYNCED, RELEASE_HEALTHY, RELEASE_DEGRADED -> Stage.FLUX_SYNC.source();
            case STAGE_FAILED -> ((StageFailed) event).stage().source();
        };
    }
}
