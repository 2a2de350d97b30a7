package dev.conveyor.notifier.testing;

import java.time.Instant;
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

/** Whole runs of events, in the order the pipeline emits them, each with the causation chain a real run has. */
public final class Runs {

    public static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");
    public static final String SHA256 = "ab".repeat(32);
    public static final String IMAGE_DIGEST = "sha256:" + "cd".repeat(32);
    public static final String RENDERED_DIGEST = "sha256:" + "ef".repeat(32);
    public static final String DIFF = "--- a/deployment.yaml\n+++ b/deployment.yaml\n-  image: shop@sha256:old\n"
            + "+  image: shop@" + IMAGE_DIGEST;

    private Runs() {
    }

    /** A pull request run of {@code app} on GitHub: build, version, image, manifests (with a diff). */
    public static List<ConveyorEvent> pullRequest(String app, String repoUrl, int pr, String commit) {
        PipelineRun run = PipelineRun.start(app, repoUrl, commit, "feature/SHOP-12-cart", pr, Flow.CI);
        BuildSucceeded build = new BuildSucceeded(run, T0, null, "https://jenkins.example.com/job/" + app + "/7/",
                new Artifact("https://jenkins.example.com/job/" + app + "/7/app.jar", SHA256, null, "jar"),
                new TestSummary(9, 0, 1, 0, 7), "SHOP-12 Shopping cart");
        String version = "1.3.0-pr." + pr + "." + commit.substring(0, 7);
        VersionResolved resolved = new VersionResolved(run, T0.plusSeconds(5), id(build), version, null, false,
                "1.2.0", BumpReason.PRERELEASE, List.of("feat: cart"), build.artifact());
        ImagePushed image = new ImagePushed(run, T0.plusSeconds(30), id(resolved), version,
                "registry.example.com/" + app, List.of(version), IMAGE_DIGEST, 12_345_678L);
        ManifestsValidated manifests = new ManifestsValidated(run, T0.plusSeconds(40), id(image), version,
                "registry.example.com/" + app, IMAGE_DIGEST, app, "chart", null, 7, RENDERED_DIGEST, DIFF, 0);
        return List.of(build, resolved, image, manifests);
    }

    /** A CD run of {@code app} through to the cluster: ... promoted to production, synced, healthy. */
    public static List<ConveyorEvent> delivery(String app, String repoUrl, String commit) {
        PipelineRun run = PipelineRun.start(app, repoUrl, commit, "main", null, Flow.CD);
        BuildSucceeded build = new BuildSucceeded(run, T0, null, "https://jenkins.example.com/job/" + app + "/8/",
                new Artifact("https://jenkins.example.com/job/" + app + "/8/app.jar", SHA256, null, "jar"), null,
                null);
        VersionResolved resolved = new VersionResolved(run, T0.plusSeconds(5), id(build), "2.4.0", "v2.4.0", true,
                "2.3.1", BumpReason.MINOR, List.of("feat: SHOP-7 basket", "fix(SHOP-8): totals", "chore: UTF-8"),
                build.artifact());
        ImagePushed image = new ImagePushed(run, T0.plusSeconds(30), id(resolved), "2.4.0",
                "registry.example.com/" + app, List.of("2.4.0"), IMAGE_DIGEST, 12_345_678L);
        ManifestsValidated manifests = new ManifestsValidated(run, T0.plusSeconds(40), id(image), "2.4.0",
                "registry.example.com/" + app, IMAGE_DIGEST, app, "chart", "1234567890abcdef1234567890abcdef12345678",
                7, RENDERED_DIGEST, null, 0);
        ChartPublished chart = new ChartPublished(run, T0.plusSeconds(50), id(manifests), app, "2.4.0",
                RENDERED_DIGEST, List.of("oci://charts.example.com/" + app), "registry.example.com/" + app,
                IMAGE_DIGEST);
        ReleasePromoted promoted = new ReleasePromoted(run, T0.plusSeconds(55), id(chart), app, "2.4.0",
                "https://git.example.com/platform/flux-prod.git", "production", "shop", app,
                "feedfacefeedfacefeedfacefeedfacefeedface", PromotionMode.AUTO, null);
        RepoSynced synced = new RepoSynced(run, T0.plusSeconds(90), id(promoted),
                "https://git.example.com/platform/flux-prod.git", "feedfacefeedfacefeedfacefeedfacefeedface",
                List.of(run.runId()), new SyncSummary(0, 2, 5, 0));
        ReleaseHealthy healthy = new ReleaseHealthy(run, T0.plusSeconds(120), id(synced),
                "https://git.example.com/platform/flux-prod.git", "feedfacefeedfacefeedfacefeedfacefeedface", "shop",
                app, List.of("Deployment/" + app));
        return List.of(build, resolved, image, manifests, chart, promoted, synced, healthy);
    }

    public static StageFailed failed(ConveyorEvent cause, Stage stage, String reason, String message) {
        return new StageFailed(cause.run(), cause.occurredAt().plusSeconds(1), id(cause), stage, reason, false,
                message, Map.of());
    }

    public static String id(ConveyorEvent event) {
        return CloudEventAttributes.idOf(event);
    }
}
