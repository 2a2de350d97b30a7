package dev.conveyor.fluxsync.config;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Clock;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

import dev.conveyor.events.v1.Stage;
import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.service.FluxSyncService;
import dev.conveyor.fluxsync.service.RepoReconciler;
import dev.conveyor.fluxsync.service.RepoSpec;
import dev.conveyor.stage.StageMetrics;
import dev.conveyor.stage.StageRunner;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.RepoMirrors;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.MeterRegistry;

/** Wires the plain stage classes from configuration. */
@ApplicationScoped
public class FluxSyncBeans {

    @Produces
    @ApplicationScoped
    FluxSyncService fluxSyncService(FluxSyncConfig config, GitAccess access, KubernetesClient client,
            MeterRegistry registry) throws IOException {
        Files.createDirectories(config.mirrorDir());
        Files.createDirectories(config.workDir());
        List<RepoSpec> repos = config.repos().entrySet().stream().map(e -> new RepoSpec(e.getKey(), e.getValue()
                .url(), e.getValue().branch(), e.getValue().path(), e.getValue().interval(), e.getValue().prune(),
                e
                        .getValue().suspend()))
                .toList();
        RepoReconciler reconciler = new RepoReconciler(new RepoMirrors(config.mirrorDir(), access), new KubeCluster(
                client, config.fieldManager()), new ChartRenderer(config.workDir()),
                new RepoReconciler.Settings(config
                        .chartsDir(), config.namespace(), config.health().timeout(), config.health().pollInterval(),
                        config.workDir()),
                registry, Clock.systemUTC());
        return new FluxSyncService(reconciler, repos, Clock.systemUTC());
    }

    @Produces
    @ApplicationScoped
    StageRunner stageRunner(FluxSyncConfig config, MeterRegistry registry) {
        return new StageRunner(Stage.FLUX_SYNC, config.retry().backoff(), new StageMetrics(registry, Stage.FLUX_SYNC));
    }
}
