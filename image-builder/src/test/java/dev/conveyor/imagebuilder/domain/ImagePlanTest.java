package dev.conveyor.imagebuilder.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.stage.config.InvalidConfigException;

class ImagePlanTest {

    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    static final Instant TIME = Instant.parse("2026-01-02T03:04:05Z");
    static final ImageDefaults DEFAULTS = new ImageDefaults("registry.example.com", Optional.of("team"), "jre:17",
            "static:1", ArtifactKind.JAR, true);

    @Test
    void cdPushesVersionShortCommitAndLatestUnderAnImmutableReleaseTag() {
        ImagePlan plan = ImagePlan.of(run(Flow.CD, "Shop_API"), "1.4.0", null, TIME, ImageSettings.defaults(),
                DEFAULTS);

        assertThat(plan.fullRepository()).isEqualTo("registry.example.com/team/shop_api");
        assertThat(plan.tags()).containsExactly("1.4.0", "0123456", "latest");
        assertThat(plan.immutable()).isTrue();
        assertThat(plan.baseImage()).isEqualTo("jre:17");
        assertThat(plan.creationTime()).isEqualTo(TIME);
        assertThat(plan.labels()).containsEntry("org.opencontainers.image.revision", COMMIT)
                .containsEntry("org.opencontainers.image.version", "1.4.0")
                .containsEntry("org.opencontainers.image.created", "2026-01-02T03:04:05Z")
                .containsEntry("org.opencontainers.image.source", "https://git.example.com/shop.git");
    }

    @Test
    void ciPushesThePreReleaseTagOnlyAndMayReplaceIt() {
        ImagePlan plan = ImagePlan.of(run(Flow.CI, "shop"), "1.4.0-pr.12.0123456+build.5", "directory", TIME,
                ImageSettings.defaults(), DEFAULTS);

        assertThat(plan.tags()).containsExactly("1.4.0-pr.12.0123456_build.5");
        assertThat(plan.immutable()).isFalse();
        assertThat(plan.kind()).isEqualTo(ArtifactKind.DIRECTORY);
        assertThat(plan.baseImage()).isEqualTo("static:1");
    }

    @Test
    void theAppsSettingsWinOverDefaultsAndTheEvent() {
        ImageSettings settings = ImageSettings.parse("image: {name: other/name, base: mine:2, kind: jar}", "shop");
        ImagePlan plan = ImagePlan.of(run(Flow.CD, "shop"), "1.0.0", "directory", TIME, settings, DEFAULTS);

        assertThat(plan.repository()).isEqualTo("other/name");
        assertThat(plan.baseImage()).isEqualTo("mine:2");
        assertThat(plan.kind()).isEqualTo(ArtifactKind.JAR);
    }

    @Test
    void badInputNamesTheField() {
        assertThatThrownBy(() -> ImagePlan.of(run(Flow.CD, "shop"), "1.0.0", "war", TIME, ImageSettings.defaults(),
                DEFAULTS)).isInstanceOfSatisfying(InvalidConfigException.class, e -> assertThat(e.field())
                        .isEqualTo("artifact.kind"));
        assertThatThrownBy(() -> ImagePlan.versionTag("1.0.0 x")).isInstanceOf(InvalidConfigException.class);
        assertThatThrownBy(() -> ImagePlan.defaultName("__")).isInstanceOfSatisfying(InvalidConfigException.class,
                e -> assertThat(e.field()).isEqualTo("image.name"));
    }

    @Test
    void credentialsInTheRepoUrlNeverReachTheLabels() {
        PipelineRun run = PipelineRun.start("shop", "https://user:tok3n@git.example.com/shop.git", COMMIT, "main",
                null, Flow.CD);
        ImagePlan plan = ImagePlan.of(run, "1.0.0", null, TIME, ImageSettings.defaults(), DEFAULTS);
        assertThat(plan.labels().toString()).doesNotContain("tok3n");
    }

    private static PipelineRun run(Flow flow, String app) {
        return PipelineRun.start(app, "https://git.example.com/shop.git", COMMIT, "main", flow == Flow.CI ? 12 : null,
                flow);
    }
}
