package dev.conveyor.fluxsync.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.stage.net.OutboundPolicy;
import dev.conveyor.stage.net.OutboundRefused;

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
            RepoMirrors m = FluxSyncBeans.chartMirrors(dir, access, GitCredentials.none(), Map.of(), created,
                    OutboundPolicy.builder().build()).apply("ssh://git@github.com/acme/charts");
            assertThat(m.cacheDir().toPath()).isEqualTo(dir.resolve("charts"));
        }
        assertThat(created).isEmpty();
    }

    @Test
    void chartMirrorsAreRestrictedToTheOutboundPolicyNamingSpecChartGitAndDialNothingRefused() throws Exception {
        Path dir = Files.createTempDirectory("chart-mirrors");
        List<GitAccess> created = new ArrayList<>();
        FluxSyncConfig.Repo own = ownCredentialsRepo();
        try (GitAccess access = GitAccess.create(GitCredentials.none())) {
            var byUrl = FluxSyncBeans.chartMirrors(dir, access, GitCredentials.none(), Map.of("platform", own),
                    created, OutboundPolicy.builder().build());
            for (String url : List.of("ssh://-oProxyCommand=touch%20" + dir.resolve("pwned") + "@h/r",
                    "file:///etc", "ssh://git@169.254.169.254/r", "ext::sh -c touch% /tmp/pwned",
                    "ssh://git@git.example.com/--upload-pack=touch/r")) {
                assertThatThrownBy(() -> byUrl.apply(url).fetch(url).close()).as(url).isInstanceOfSatisfying(
                        OutboundRefused.class, e -> assertThat(e.field()).isEqualTo("spec.chart.git"));
            }
            // the mirrors of a host with credentials of its own are restricted too
            String sameHost = "ssh://git@git.example.com:22/-oProxyCommand=x/r";
            assertThat(byUrl.apply(sameHost).cacheDir().toPath()).isEqualTo(dir.resolve("charts-platform"));
            assertThatThrownBy(() -> byUrl.apply(sameHost).fetch(sameHost).close()).isInstanceOf(
                    OutboundRefused.class);
        } finally {
            created.forEach(GitAccess::close);
        }
        assertThat(dir.resolve("pwned")).doesNotExist();
    }

    /** A repository on git.example.com with an SSH key of its own. */
    private static FluxSyncConfig.Repo ownCredentialsRepo() throws Exception {
        Path key = Files.createTempFile("key", "");
        return (FluxSyncConfig.Repo) java.lang.reflect.Proxy.newProxyInstance(FluxSyncConfig.Repo.class
                .getClassLoader(), new Class<?>[]{FluxSyncConfig.Repo.class},
                (proxy, method, args) -> switch (method
                        .getName()) {
                    case "url" -> "ssh://git@git.example.com/acme/platform";
                    case "ownCredentials" -> true;
                    case "sshPrivateKey" -> java.util.Optional.of(key);
                    case "hashCode" -> 1;
                    case "equals" -> proxy == args[0];
                    case "toString" -> "repo";
                    default -> method.getReturnType() == java.util.Optional.class
                            ? java.util.Optional.empty()
                            : method.getReturnType() == boolean.class ? false : null;
                });
    }
}
