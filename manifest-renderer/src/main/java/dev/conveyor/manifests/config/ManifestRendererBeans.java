package dev.conveyor.manifests.config;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.manifests.client.HelmRenderer;
import dev.conveyor.manifests.client.ManifestsCommitter;
import dev.conveyor.manifests.client.RedactionKey;
import dev.conveyor.manifests.client.SchemaLocations;
import dev.conveyor.manifests.domain.ManifestParser;
import dev.conveyor.manifests.domain.SecretRedactor;
import dev.conveyor.manifests.domain.ValidationSettings;
import dev.conveyor.manifests.domain.schema.BuiltinSchemas;
import dev.conveyor.manifests.domain.schema.SchemaRegistry;
import dev.conveyor.manifests.service.RenderService;
import dev.conveyor.manifests.service.RenderSettings;
import dev.conveyor.manifests.service.RendererWarmUp;
import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.StageMetrics;
import dev.conveyor.stage.StageRunner;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.PushRace;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.stage.messaging.StageEdge;
import dev.conveyor.stage.net.OutboundPolicy;
import dev.conveyor.stage.warmup.WarmUp;
import io.micrometer.core.instrument.MeterRegistry;

/** Wires the plain stage classes from configuration. */
@ApplicationScoped
public class ManifestRendererBeans {

    @Produces
    @ApplicationScoped
    BuiltinSchemas builtinSchemas(ManifestRendererConfig config) {
        return BuiltinSchemas.cached(config.kubernetesVersion());
    }

    @Produces
    @ApplicationScoped
    RenderService renderService(ManifestRendererConfig config, GitAccess access, BuiltinSchemas builtins,
            OutboundPolicy outbound) throws IOException {
        Files.createDirectories(config.mirrorDir());
        Files.createDirectories(config.workDir());
        List<SchemaRegistry.SchemaLookup> locations = config.schemaLocations().orElse(List.of()).stream()
                .map(l -> (SchemaRegistry.SchemaLookup) new SchemaLocations(l,
                        BuiltinSchemas.minor(config.kubernetesVersion()), config
                                .strict()))
                .toList();
        // "latest" (the default) is the newest bundled minor version; Helm is given that version.
        RenderSettings settings = new RenderSettings(config.workDir(), BuiltinSchemas.minor(config
                .kubernetesVersion()), config
                        .defaultNamespace(),
                config.defaultBaseBranch(), config.manifestsDir(),
                new ValidationSettings(config
                        .strict(), config.missingSchema(), config.apiChecks()),
                new ManifestParser.Limits(config.maxOutputBytes(), config.maxAliases(), config.maxNodesPerDocument(),
                        64),
                config.lint(), config.maxDiffChars(), config.maxProblemsInMessage(), config
                        .maxFileBytes(),
                config.maxFiles(), config.committer().name(), config.committer().email());
        SecretRedactor redactor = new SecretRedactor(RedactionKey.load(config.redactionKey(), config.mirrorDir()
                .resolve("redaction.key")), config.redactKinds());
        // The app repository comes from the event: every fetch and push goes through the outbound policy.
        GitAccess restricted = access.restrictedTo(outbound, "repoUrl");
        RepoMirrors mirrors = new RepoMirrors(config.mirrorDir(), restricted);
        PushRace race = new PushRace(mirrors, new Backoff(config.pushAttempts(), Duration.ofMillis(20), Duration
                .ofSeconds(2)));
        return new RenderService(mirrors, new HelmRenderer(config.renderTimeout(), outbound),
                new ManifestsCommitter(restricted),
                redactor, builtins,
                locations, settings, Clock.systemUTC(), race);
    }

    /** Run once after start by stage-support's {@code WarmUpStarter} ({@code conveyor.warm-up.enabled}). */
    @Produces
    @ApplicationScoped
    WarmUp warmUp(RenderService service, GitAccess access) {
        return new RendererWarmUp(service, access);
    }

    @Produces
    @ApplicationScoped
    StageRunner stageRunner(ManifestRendererConfig config, MeterRegistry registry) {
        return new StageRunner(Stage.MANIFEST_RENDERER, config.retry().backoff(), new StageMetrics(registry,
                Stage.MANIFEST_RENDERER));
    }

    /** The Kafka edge: the runner, and one emitter for every topic the stage emits to. */
    @Produces
    @ApplicationScoped
    StageEdge stageEdge(StageRunner runner, @Channel(StageEdge.CHANNEL) Emitter<ConveyorEvent> events) {
        return new StageEdge(runner, events);
    }
}
