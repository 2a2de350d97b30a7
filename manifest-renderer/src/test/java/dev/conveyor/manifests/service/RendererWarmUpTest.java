package dev.conveyor.manifests.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.conveyor.manifests.client.HelmRenderer;
import dev.conveyor.manifests.client.ManifestsCommitter;
import dev.conveyor.manifests.domain.ManifestParser;
import dev.conveyor.manifests.domain.SecretRedactor;
import dev.conveyor.manifests.domain.ValidationSettings;
import dev.conveyor.manifests.domain.schema.BuiltinSchemas;
import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.PushRace;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.stage.warmup.WarmUpResult;
import dev.conveyor.stage.warmup.WarmUps;

/** The warm-up renders, validates and commits its built-in chart in its scratch space and leaves nothing behind. */
class RendererWarmUpTest {

    @TempDir
    Path tmp;

    @Test
    void rendersValidatesAndCommitsTheBuiltInChartInItsScratchSpaceAndLeavesNothing() throws Exception {
        Path work = Files.createDirectories(tmp.resolve("service-work"));
        Path mirrorDir = Files.createDirectories(tmp.resolve("service-mirrors"));
        Path scratchRoot = Files.createDirectories(tmp.resolve("scratch"));
        try (GitAccess access = GitAccess.create(GitCredentials.none())) {
            RenderSettings settings = new RenderSettings(work, "1.32", "default", "main", "manifests",
                    ValidationSettings.strictDefaults(), new ManifestParser.Limits(8 * 1024 * 1024, 50, 100_000, 64),
                    true, 20_000, 50, 1024 * 1024, 1000, "Conveyor", "conveyor@conveyor.dev");
            RepoMirrors mirrors = new RepoMirrors(mirrorDir, access);
            RenderService service = new RenderService(mirrors, new HelmRenderer(), new ManifestsCommitter(access),
                    new SecretRedactor("a warm-up test key of some length".getBytes(StandardCharsets.UTF_8), List.of(
                            "Secret")),
                    BuiltinSchemas.load("1.32"), List.of(), settings, Clock.systemUTC(), new PushRace(mirrors,
                            new Backoff(3, Duration.ZERO, Duration.ZERO)));

            WarmUpResult result = new WarmUps(scratchRoot).run("manifest-renderer", List.of(new RendererWarmUp(
                    service, access)));

            assertThat(result.failure()).isEmpty();
            assertThat(result.outcome()).isEqualTo(WarmUpResult.Outcome.DONE);
        }
        for (Path dir : List.of(scratchRoot, work, mirrorDir)) {
            try (var left = Files.list(dir)) {
                assertThat(left).as("nothing left in " + dir).isEmpty();
            }
        }
    }
}
