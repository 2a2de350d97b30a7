package dev.conveyor.versioner.config;

import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.StageMetrics;
import dev.conveyor.stage.StageRunner;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.PushRace;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.stage.messaging.StageEdge;
import dev.conveyor.stage.net.OutboundPolicy;
import dev.conveyor.stage.warmup.WarmUp;
import dev.conveyor.versioner.client.TagPublisher;
import dev.conveyor.versioner.domain.SemVer;
import dev.conveyor.versioner.service.VersionService;
import dev.conveyor.versioner.service.VersionerWarmUp;
import io.micrometer.core.instrument.MeterRegistry;

/** Wires the plain stage classes from configuration. */
@ApplicationScoped
public class VersionerBeans {

    @Produces
    @ApplicationScoped
    VersionService versionService(VersionerConfig config, GitAccess shared, OutboundPolicy outbound)
            throws java.io.IOException {
        // The app repository comes from the event: it is dialled only if the installation's policy allows it.
        GitAccess access = shared.restrictedTo(outbound, "repoUrl");
        Files.createDirectories(config.mirrorDir());
        SemVer initial = SemVer.parse(config.initialVersion()).filter(v -> !v.isPreRelease())
                .orElseThrow(() -> new IllegalArgumentException(
                        "conveyor.versioner.initial-version must be a release version such as 0.1.0"));
        // Lost tag races are recomputed at once: the next round's fetch already sees the winner's tag.
        PushRace race = new PushRace(new RepoMirrors(config.mirrorDir(), access), new Backoff(config
                .tagPushAttempts(), Duration.ofMillis(10), Duration.ofMillis(500)));
        return new VersionService(race, new TagPublisher(access), config.tagPrefix(), initial, config.tagger().name(),
                config.tagger().email(), Clock.systemUTC());
    }

    /** Run once after start by stage-support's {@code WarmUpStarter} ({@code conveyor.warm-up.enabled}). */
    @Produces
    @ApplicationScoped
    WarmUp warmUp(VersionService service, GitAccess shared) {
        return new VersionerWarmUp(service, shared);
    }

    @Produces
    @ApplicationScoped
    StageRunner stageRunner(VersionerConfig config, MeterRegistry registry) {
        return new StageRunner(Stage.VERSIONER, config.retry().backoff(), new StageMetrics(registry, Stage.VERSIONER));
    }

    /** The Kafka edge: the runner, and one emitter for every topic the stage emits to. */
    @Produces
    @ApplicationScoped
    StageEdge stageEdge(StageRunner runner, @Channel(StageEdge.CHANNEL) Emitter<ConveyorEvent> events) {
        return new StageEdge(runner, events);
    }
}
