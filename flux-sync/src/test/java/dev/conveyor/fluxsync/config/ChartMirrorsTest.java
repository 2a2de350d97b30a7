package dev.conveyor.fluxsync.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.RepoMirrors;

/** Chart repositories get mirrors of their own, never the GitOps repositories' (whose locks a sync holds). */
class ChartMirrorsTest {

    @Test
    void gitHostsAreReadFromEveryUrlFormAndChartMirrorsLiveApart() throws Exception {
        assertThat(FluxSyncBeans.gitHost("git@github.com:acme/charts.git")).isEqualTo("github.com");
        assertThat(FluxSyncBeans.gitHost("ssh://git@gitlab.example.com:2222/acme/charts")).isEqualTo(
                "gitlab.example.com");
        assertThat(FluxSyncBeans.gitHost("https://github.com/acme/charts")).isEqualTo("github.com");
        assertThat(FluxSyncBeans.gitHost("/srv/git/charts.git")).isNull();

        Path dir = Files.createTempDirectory("chart-mirrors");
        List<GitAccess> created = new ArrayList<>();
        try (GitAccess access = GitAccess.create(GitCredentials.none())) {
            RepoMirrors m = FluxSyncBeans.chartMirrors(dir, access, GitCredentials.none(), Map.of(), created).apply(
                    "ssh://git@github.com/acme/charts");
            assertThat(m.cacheDir().toPath()).isEqualTo(dir.resolve("charts"));
        }
        assertThat(created).isEmpty();
    }
}
