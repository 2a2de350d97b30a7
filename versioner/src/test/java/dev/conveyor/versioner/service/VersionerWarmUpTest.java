package dev.conveyor.versioner.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.PushRace;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.stage.warmup.WarmUpResult;
import dev.conveyor.stage.warmup.WarmUps;
import dev.conveyor.versioner.client.TagPublisher;
import dev.conveyor.versioner.domain.SemVer;

/** The warm-up runs the real resolve-and-tag path on its own repository and leaves nothing behind. */
class VersionerWarmUpTest {

    @TempDir
    Path tmp;

    @Test
    void resolvesAndTagsInItsScratchRepositoryAndLeavesNothing() throws Exception {
        Path mirrors = Files.createDirectories(tmp.resolve("service-mirrors"));
        Path scratchRoot = Files.createDirectories(tmp.resolve("scratch"));
        try (GitAccess access = GitAccess.create(GitCredentials.none())) {
            VersionService service = new VersionService(new PushRace(new RepoMirrors(mirrors, access), new Backoff(3,
                    Duration.ZERO, Duration.ZERO)), new TagPublisher(access), "v", SemVer.parse("0.1.0").orElseThrow(),
                    "Conveyor", "conveyor@conveyor.dev", Clock.systemUTC());

            WarmUpResult result = new WarmUps(scratchRoot).run("versioner", List.of(new VersionerWarmUp(service,
                    access)));

            assertThat(result.failure()).isEmpty();
            assertThat(result.outcome()).isEqualTo(WarmUpResult.Outcome.DONE);
        }
        try (var left = Files.list(scratchRoot)) {
            assertThat(left).as("the scratch repository, clone and mirror are deleted").isEmpty();
        }
        try (var left = Files.list(mirrors)) {
            assertThat(left).as("the service's own mirrors are untouched").isEmpty();
        }
    }
}
