package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.conveyor.stage.warmup.WarmUpResult;
import dev.conveyor.stage.warmup.WarmUps;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/**
 * The warm-up reads, plans and renders its own repository (it fails when it does not get its five objects) with no
 * cluster at all, and leaves nothing behind.
 */
class FluxSyncWarmUpTest {

    @TempDir
    Path tmp;

    @Test
    void plansAndRendersItsRepositoryWithoutAClusterAndLeavesNothing() throws Exception {
        Path scratchRoot = Files.createDirectories(tmp.resolve("scratch"));

        WarmUpResult result = new WarmUps(scratchRoot).run("flux-sync", List.of(new FluxSyncWarmUp(
                new KubernetesSerialization())));

        assertThat(result.failure()).isEmpty();
        assertThat(result.outcome()).isEqualTo(WarmUpResult.Outcome.DONE);
        try (var left = Files.list(scratchRoot)) {
            assertThat(left).as("nothing left in the scratch directory").isEmpty();
        }
    }
}
