package dev.conveyor.events.v1;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** One valid instance of every event type, as a CD run of the sample app would produce them. */
public final class SampleEvents {

    public static final String SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    public static final String DIGEST = "sha256:" + SHA;
    public static final Instant AT = Instant.parse("2026-11-23T10:15:30.123Z");

    private SampleEvents() {
    }

    public static PipelineRun cdRun() {
        return PipelineRun.start("shop-api", "https://git.example.com/acme/shop-api.git",
                "2f1e3d4c5b6a798081726354453627181909a0b1", "main", null, Flow.CD);
    }

    public static PipelineRun ciRun() {
        return PipelineRun.start("shop-api", "https://git.example.com/acme/shop-api.git",
                "7c1e3d4c5b6a798081726354453627181909a0b1", "feature/cart", 42, Flow.CI);
    }

    public static Artifact artifact() {
        return new Artifact("https://jenkins.example.com/job/shop-api/17/artifact/target/shop-api.jar", SHA, 12_345L,
                "jar");
    }

    /** Every event type once, in pipeline order, each answering the previous one. */
    public static List<ConveyorEvent> all() {
        PipelineRun run = cdRun();
        return List.of(
                new BuildSucceeded(run, AT, null, "https://jenkins.example.com/job/shop-api/17/", artifact(),
                        new TestSummary(120, 0, 3, 0, 7), null),
                new BuildFailed(ciRun(), AT, null, "https://jenkins.example.com/job/shop-api/18/", "test",
                        "2 tests failed", new TestSummary(118, 2, 3, 0, 0), "SHOP-12 add cart"),
                new VersionResolved(run, AT, "cause-1", "1.4.0", "v1.4.0", true, "1.3.2", BumpReason.MINOR,
                        List.of("feat: cart totals", "fix: rounding"), artifact()),
                new ImagePushed(run, AT, "cause-2", "1.4.0", "registry.example.com/acme/shop-api",
                        List.of("1.4.0", "2f1e3d4"),
                        DIGEST, 48_000_000L),
                new ManifestsValidated(run, AT, "cause-3", "1.4.0", "registry.example.com/acme/shop-api", DIGEST,
                        "shop-api",
                        "chart", "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567", 5, DIGEST, null, 0),
                new ChartPublished(run, AT, "cause-4", "shop-api", "1.4.0", DIGEST,
                        List.of("oci://registry.example.com/charts", "https://charts.example.com"),
                        "registry.example.com/acme/shop-api", DIGEST),
                new ReleasePromoted(run, AT, "cause-5", "shop-api", "1.4.0", "ssh://git@git.example.com/acme/flux.git",
                        "staging", "shop", "shop-api", "1234567890abcdef1234567890abcdef12345678", PromotionMode.AUTO,
                        null),
                new RepoSynced(run, AT, "cause-6", "ssh://git@git.example.com/acme/flux.git",
                        "1234567890abcdef1234567890abcdef12345678", List.of(run.runId()), new SyncSummary(2, 1, 10, 0)),
                new ReleaseHealthy(run, AT, "cause-7", "ssh://git@git.example.com/acme/flux.git",
                        "1234567890abcdef1234567890abcdef12345678", "shop", "shop-api", List.of("Deployment/shop-api")),
                new ReleaseDegraded(run, AT, "cause-7", "ssh://git@git.example.com/acme/flux.git",
                        "1234567890abcdef1234567890abcdef12345678", "shop", "shop-api", "RolloutTimeout",
                        "Deployment/shop-api has 0 of 2 replicas ready after 5m"),
                new StageFailed(run, AT, "cause-2", Stage.IMAGE_BUILDER, "CHECKSUM_MISMATCH", false,
                        "the artifact's sha256 does not match the build's", Map.of("artifact", "shop-api.jar")));
    }
}
