package dev.conveyor.promoter.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.conveyor.promoter.client.ChartPackager;
import dev.conveyor.promoter.client.GitCommitter;
import dev.conveyor.promoter.client.GitHubPullRequests;
import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.PushRace;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.stage.warmup.WarmUpResult;
import dev.conveyor.stage.warmup.WarmUps;

/** The warm-up packages, indexes and promotes a chart in its scratch repositories and leaves nothing behind. */
class PromoterWarmUpTest {

    @TempDir
    Path tmp;

    @Test
    void publishesAndPromotesInItsScratchRepositoriesAndLeavesNothing() throws Exception {
        Path mirrorDir = Files.createDirectories(tmp.resolve("service-mirrors"));
        Path work = Files.createDirectories(tmp.resolve("service-work"));
        Path scratchRoot = Files.createDirectories(tmp.resolve("scratch"));
        try (GitAccess access = GitAccess.create(GitCredentials.none())) {
            RepoMirrors mirrors = new RepoMirrors(mirrorDir, access);
            GitCommitter committer = new GitCommitter(
                    new PushRace(mirrors, new Backoff(3, Duration.ZERO, Duration.ZERO)), mirrors, access, "Conveyor",
                    "conveyor@conveyor.dev");
            PromotionService service = new PromotionService(mirrors, new ChartPackager(), committer,
                    new GitHubPullRequests("https://api.github.invalid", Optional.empty()),
                    new PromotionService.Settings(
                            List.of(), List.of(), Set.of(), "main", "charts", work),
                    Clock.systemUTC());

            WarmUpResult result = new WarmUps(scratchRoot).run("promoter", List.of(new PromoterWarmUp(service, access,
                    "Conveyor", "conveyor@conveyor.dev")));

            assertThat(result.failure()).isEmpty();
            assertThat(result.outcome()).isEqualTo(WarmUpResult.Outcome.DONE);
        }
        for (Path dir : List.of(scratchRoot, mirrorDir, work)) {
            try (var left = Files.list(dir)) {
                assertThat(left).as("nothing left in " + dir).isEmpty();
            }
        }
    }
}
