package dev.conveyor.versioner.config;

import java.nio.file.Files;
import java.time.Clock;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

import dev.conveyor.events.v1.Stage;
import dev.conveyor.stage.StageMetrics;
import dev.conveyor.stage.StageRunner;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.versioner.client.TagPublisher;
import dev.conveyor.versioner.domain.SemVer;
import dev.conveyor.versioner.service.VersionService;
import io.micrometer.core.instrument.MeterRegistry;

/** Wires the plain stage classes from configuration. */
@ApplicationScoped
public class VersionerBeans {

    @Produces
    @ApplicationScoped
    VersionService versionService(VersionerConfig config, GitAccess access) throws java.io.IOException {
        Files.createDirectories(config.mirrorDir());
        SemVer initial = SemVer.parse(config.initialVersion()).filter(v -> !v.isPreRelease())
                .orElseThrow(() -> new IllegalArgumentException(
                        "conveyor.versioner.initial-version must be a release version such as 0.1.0"));
        return new VersionService(new RepoMirrors(config.mirrorDir(), access), new TagPublisher(access),
                config.tagPrefix(), initial, config.tagger().name(), config.tagger().email(), config.tagPushAttempts(),
                Clock.systemUTC(), (url, tag) -> {
                });
    }

    @Produces
    @ApplicationScoped
    StageRunner stageRunner(VersionerConfig config, MeterRegistry registry) {
        return new StageRunner(Stage.VERSIONER, config.retry().backoff(), new StageMetrics(registry, Stage.VERSIONER));
    }
}
