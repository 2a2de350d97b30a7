package dev.conveyor.manifests.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code conveyor render} and {@code conveyor diff} run as separate processes on the real charts under
 * {@code src/test/resources/charts} (rendered by Helm's engine; nothing but the local file system and git).
 */
class RenderDiffCliTest {

    static Path charts;

    @BeforeAll
    static void charts() throws Exception {
        charts = Path.of(RenderDiffCliTest.class.getResource("/charts").toURI());
    }

    static CliProcess.Run conveyor(Path dir, String... args) {
        return CliProcess.run(dir, List.of(args));
    }

    @Test
    void renderPrintsTheFilesConveyorCommitsHooksAndTestsIncluded() {
        CliProcess.Run run = conveyor(charts, "render", "hooks", "--namespace", "shop", "--release-name", "web");
        assertThat(run.err()).isEmpty();
        assertThat(run.exit()).isZero();
        assertThat(run.out().lines().filter(l -> l.startsWith("# manifests/"))).containsExactly(
                "# manifests/deployment-shop-web-web.yaml", "# manifests/job-shop-web-migrate.yaml",
                "# manifests/pod-shop-web-test-connection.yaml");
        assertThat(run.out()).contains("""
                # manifests/job-shop-web-migrate.yaml
                # Source: hooks/templates/migration-job.yaml
                apiVersion: batch/v1
                kind: Job
                metadata:
                  name: web-migrate
                  annotations:
                    helm.sh/hook: pre-install,pre-upgrade
                    helm.sh/hook-weight: '-5'
                    helm.sh/hook-delete-policy: before-hook-creation
                  namespace: shop
                """).contains("helm.sh/hook: test");
    }

    @Test
    void renderFailsOnErrorsPlantedInTheHookAndTheTest() {
        CliProcess.Run run = conveyor(charts, "render", "hooks", "-f", "hooks/broken-values.yaml");
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).containsPattern("hooks/templates/migration-job.yaml \\(document \\d+, line \\d+\\): Job"
                + " hooks-migrate: spec.backoffLimit: expected integer, got string")
                .containsPattern("hooks/templates/tests/test-connection.yaml \\(document \\d+, line \\d+\\): Pod"
                        + " hooks-test-connection: spec.restartPolicy: invalid value \"Sometimes\"")
                .endsWith("conveyor render: 2 problem(s); nothing would be committed\n");
        CliProcess.Run set = conveyor(charts, "render", "hooks", "--set", "migration.backoffLimit=x,image=a:b");
        assertThat(set.exit()).isEqualTo(1);
        assertThat(set.err()).contains("Job hooks-migrate: spec.backoffLimit: expected integer, got string");
    }

    @Test
    void renderBuildsTheDependenciesThatAreNotVendored() {
        CliProcess.Run run = conveyor(charts, "render", "partial-deps");
        assertThat(run.exit()).isZero();
        assertThat(run.out().lines().filter(l -> l.startsWith("# manifests/"))).containsExactly(
                "# manifests/configmap-default-partial-fetched.yaml",
                "# manifests/configmap-default-partial-parent.yaml",
                "# manifests/configmap-default-partial-vendored.yaml",
                "# manifests/job-default-partial-fetched-hook.yaml");
        assertThat(charts.resolve("partial-deps/charts/fetched-2.0.0.tgz")).doesNotExist(); // the chart is untouched

        CliProcess.Run unfetchable = conveyor(charts, "render", "unfetchable");
        assertThat(unfetchable.exit()).isEqualTo(1);
        assertThat(unfetchable.err()).startsWith("conveyor render: helm could not render unfetchable: dependency gone"
                + " 1.0.0 from http://127.0.0.1:9/charts cannot be fetched: ");
    }

    @Test
    void renderWritesTheFilesToAFolder(@TempDir Path out) throws Exception {
        CliProcess.Run run = conveyor(charts, "render", "hooks", "--output-dir", out.toString());
        assertThat(run.exit()).isZero();
        try (Stream<Path> files = Files.list(out)) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted()).containsExactly(
                    "deployment-default-hooks-web.yaml", "job-default-hooks-migrate.yaml",
                    "pod-default-hooks-test-connection.yaml");
        }
        assertThat(Files.readString(out.resolve("pod-default-hooks-test-connection.yaml"))).startsWith(
                "# Source: hooks/templates/tests/test-connection.yaml\n");
    }

    @Test
    void renderRefusesBadUsageAndMissingCharts() {
        CliProcess.Run version = conveyor(charts, "render", "hooks", "--kubernetes-version", "1.99");
        assertThat(version.exit()).isEqualTo(2);
        assertThat(version.err()).startsWith("conveyor render: unknown Kubernetes version \"1.99\"; available: 1.30,");
        assertThat(conveyor(charts, "render").exit()).isEqualTo(2);
        assertThat(conveyor(charts, "render", "hooks", "--set", "novalue").exit()).isEqualTo(2);
        CliProcess.Run missing = conveyor(charts, "render", "no-such-chart");
        assertThat(missing.exit()).isEqualTo(3);
        assertThat(missing.err()).isEqualTo("conveyor render: no-such-chart: no Chart.yaml (not a chart directory)\n");
    }

    @Test
    void renderTakesTheAppsKubernetesVersionFromConveyorYamlUnlessTheCallNamesOne(@TempDir Path repo)
            throws Exception {
        Files.createDirectories(repo.resolve(".git"));
        Files.writeString(repo.resolve(".conveyor.yaml"), "manifests:\n  kubernetesVersion: \"1.30\"\n");
        Path chart = repo.resolve("deploy/chart");
        Files.createDirectories(chart.resolve("templates"));
        Files.writeString(chart.resolve("Chart.yaml"), "apiVersion: v2\nname: ip\nversion: 0.1.0\n"
                + "icon: https://example.com/i.png\n");
        Files.writeString(chart.resolve("values.yaml"), "{}\n");
        // networking.k8s.io/v1 IPAddress exists from Kubernetes 1.32 on
        Files.writeString(chart.resolve("templates/ip.yaml"), """
                apiVersion: networking.k8s.io/v1
                kind: IPAddress
                metadata:
                  name: 10.0.0.1
                spec:
                  parentRef: {resource: services, name: web, namespace: shop}
                """);
        CliProcess.Run app = conveyor(repo.resolve("deploy"), "render", "chart");
        assertThat(app.exit()).isEqualTo(1);
        assertThat(app.err()).contains("no schema for networking.k8s.io/v1 IPAddress (not a built-in kind of"
                + " Kubernetes 1.30");
        assertThat(conveyor(repo.resolve("deploy"), "render", "chart", "--kubernetes-version", "1.32").exit())
                .isZero();
        Files.writeString(repo.resolve(".conveyor.yaml"), "manifests:\n  kubernetesVersion: \"1.29\"\n");
        CliProcess.Run unknown = conveyor(repo, "render", "deploy/chart");
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.err()).contains("manifests.kubernetesVersion: unknown Kubernetes version \"1.29\";"
                + " available: 1.30,");
    }

    @Test
    void renderRedactsSecretsWithTheConfiguredKey(@TempDir Path dir) throws Exception {
        Path chart = dir.resolve("secret");
        Files.createDirectories(chart.resolve("templates"));
        Files.writeString(chart.resolve("Chart.yaml"), "apiVersion: v2\nname: secret\nversion: 0.1.0\n"
                + "icon: https://example.com/i.png\n");
        Files.writeString(chart.resolve("values.yaml"), "password: hunter2-but-longer\n");
        Files.writeString(chart.resolve("templates/secret.yaml"), """
                apiVersion: v1
                kind: Secret
                metadata:
                  name: db
                stringData:
                  password: {{ .Values.password | quote }}
                """);
        Map<String, String> key = Map.of("CONVEYOR_REDACTION_KEY", "a-key-of-at-least-16-characters");
        CliProcess.Run first = CliProcess.run(dir, null, key, List.of("render", "secret"));
        CliProcess.Run second = CliProcess.run(dir, null, key, List.of("render", "secret"));
        assertThat(first.exit()).isZero();
        assertThat(first.out()).doesNotContain("hunter2").contains("password: REDACTED hmac-sha256:");
        assertThat(second.out()).isEqualTo(first.out());
    }

    @Test
    void diffShowsWhatAPullRequestChangesBetweenTwoRefs(@TempDir Path repo) throws Exception {
        ChartRun.copy(charts.resolve("hooks"), repo.resolve("deploy/chart"));
        try (Git git = Git.init().setDirectory(repo.toFile()).setInitialBranch("main").call()) {
            git.add().addFilepattern(".").call();
            git.commit().setMessage("chart").setAuthor("t", "t@example.com").setCommitter("t", "t@example.com")
                    .setSign(false).call();
            git.branchCreate().setName("base").call();
            Path values = repo.resolve("deploy/chart/values.yaml");
            Files.writeString(values, Files.readString(values).replace("image: nginx:1.27", "image: nginx:1.28"));
            git.add().addFilepattern(".").call();
            git.commit().setMessage("bump").setAuthor("t", "t@example.com").setCommitter("t", "t@example.com")
                    .setSign(false).call();
        }
        CliProcess.Run run = conveyor(repo, "diff", "deploy/chart", "--base", "base", "--head", "main");
        assertThat(run.err()).isEmpty();
        assertThat(run.exit()).isZero();
        assertThat(run.out()).startsWith("Rendered manifests: 0 added, 2 changed, 0 removed\n")
                .contains("deployment-default-hooks-web.yaml", "job-default-hooks-migrate.yaml")
                .contains("-        image: nginx:1.27", "+        image: nginx:1.28");

        // the working tree against a ref, from a subdirectory
        Files.delete(repo.resolve("deploy/chart/templates/tests/test-connection.yaml"));
        CliProcess.Run tree = conveyor(repo.resolve("deploy"), "diff", "chart", "--base", "main");
        assertThat(tree.exit()).isZero();
        assertThat(tree.out()).startsWith("Rendered manifests: 0 added, 0 changed, 1 removed\n")
                .contains("- removed pod-default-hooks-test-connection.yaml");

        CliProcess.Run unknown = conveyor(repo, "diff", "deploy/chart", "--base", "nope");
        assertThat(unknown.exit()).isEqualTo(3);
        assertThat(unknown.err()).startsWith("conveyor diff: unknown git ref nope");
        assertThat(conveyor(repo, "diff", "deploy/chart").exit()).isEqualTo(2);
    }
}
