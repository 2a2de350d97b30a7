package dev.conveyor.manifests.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.manifests.client.HelmRenderer;
import dev.conveyor.manifests.client.ManifestsCommitter;
import dev.conveyor.manifests.domain.ManifestParser;
import dev.conveyor.manifests.domain.SecretRedactor;
import dev.conveyor.manifests.domain.ValidationSettings;
import dev.conveyor.manifests.domain.schema.BuiltinSchemas;
import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.FailureKind;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.PushRace;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.stage.net.OutboundPolicy;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitDaemonServer;
import dev.conveyor.testkit.git.GitRepos;

/**
 * Hostile app repositories (issue 16, item 4): each is refused with a terminal error naming the file or field,
 * nothing is committed, and nothing is read or written outside the work directory.
 */
class HostileRepositoryIT {

    static GitRepos repos;
    static GitDaemonServer daemon;
    static GitAccess access;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        repos = new GitRepos();
        daemon = GitDaemonServer.start(repos.root());
        access = GitAccess.create(GitCredentials.none());
    }

    @AfterAll
    static void stop() {
        access.close();
        daemon.close();
        repos.close();
    }

    @AfterEach
    void nothingLeftInTheWorkDirectory() throws IOException {
        if (Files.isDirectory(tmp.resolve("work"))) {
            try (Stream<Path> left = Files.list(tmp.resolve("work"))) {
                assertThat(left).as("work directories are removed on every path").isEmpty();
            }
        }
    }

    RenderService service(Duration timeout) {
        RenderSettings settings = new RenderSettings(tmp.resolve("work"), "1.32", "default", "main", "manifests",
                ValidationSettings.strictDefaults(), new ManifestParser.Limits(1 << 20, 50, 100_000, 64), false,
                20_000, 50, 1 << 20, 1000, "Conveyor", "conveyor@conveyor.dev");
        RepoMirrors mirrors = new RepoMirrors(tmp.resolve("mirrors"), access);
        return new RenderService(mirrors, new HelmRenderer(timeout, OutboundPolicy.builder().build()),
                new ManifestsCommitter(access),
                new SecretRedactor("a test redaction key of some length".getBytes(StandardCharsets.UTF_8), List.of(
                        "Secret")),
                BuiltinSchemas.load("1.32"), List.of(), settings, Clock.systemUTC(), new PushRace(mirrors,
                        new Backoff(2, Duration.ZERO, Duration.ZERO)));
    }

    RenderService service() {
        return service(Duration.ofSeconds(60));
    }

    static Map<String, String> chart(String dir) {
        Map<String, String> files = new LinkedHashMap<>();
        files.put(dir + "/Chart.yaml", "apiVersion: v2\nname: app\nversion: 0.1.0\n");
        files.put(dir + "/values.yaml", "greeting: hello\n");
        files.put(dir + "/templates/cm.yaml", """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: {{ .Release.Name }}
                data:
                  greeting: {{ .Values.greeting | quote }}
                """);
        return files;
    }

    /** Commits {@code files} and symbolic links ({@code links}: path to target) through a clone, as a user would. */
    String commit(BareRepo repo, Map<String, String> files, Map<String, String> links) throws Exception {
        Path work = tmp.resolve("author-" + System.nanoTime());
        try (Git git = Git.cloneRepository().setURI(repo.path().toUri().toString()).setDirectory(work.toFile())
                .call()) {
            for (Map.Entry<String, String> f : files.entrySet()) {
                Path p = work.resolve(f.getKey());
                Files.createDirectories(p.getParent());
                Files.writeString(p, f.getValue());
            }
            for (Map.Entry<String, String> l : links.entrySet()) {
                Path p = work.resolve(l.getKey());
                Files.createDirectories(p.getParent());
                Files.createSymbolicLink(p, Path.of(l.getValue()));
            }
            git.add().addFilepattern(".").call();
            String id = git.commit().setMessage("hostile").setSign(false).call().name();
            git.push().setRemote("origin").add("HEAD:refs/heads/main").call();
            return id;
        }
    }

    ImagePushed pushed(BareRepo repo, String commit) {
        return new ImagePushed(PipelineRun.start(repo.name(), daemon.url(repo), commit, "main", null, Flow.CD),
                Instant.now(), null, "1.0.0", "registry.example.com/team/" + repo.name(), List.of("1.0.0"),
                "sha256:" + "ab".repeat(32), 1);
    }

    void refused(BareRepo repo, String commit, String reason, String... message) {
        assertThatThrownBy(() -> service().render(pushed(repo, commit), null)).isInstanceOfSatisfying(
                StageException.class, e -> {
                    assertThat(e.reason()).as(e.getMessage()).isEqualTo(reason);
                    assertThat(e.kind()).isEqualTo(FailureKind.TERMINAL);
                    assertThat(e.getMessage()).contains(message).doesNotContain("root:x:0:0");
                });
        assertThat(repo.commits()).noneMatch(c -> c.shortMessage().startsWith("chore(manifests)"));
    }

    @Test
    void symbolicLinksThatLeaveTheTreeAreRefusedNamingTheLink() throws Exception {
        BareRepo absolute = repos.createBare("link-absolute");
        refused(absolute, commit(absolute, chart("chart"), Map.of("chart/templates/leak.yaml", "/etc/passwd")),
                "UNSAFE_CHART", "chart/templates/leak.yaml is a symbolic link");

        BareRepo relative = repos.createBare("link-relative");
        Map<String, String> noValues = chart("chart");
        noValues.remove("chart/values.yaml");
        refused(relative, commit(relative, noValues, Map.of("chart/values.yaml", "../../../../../../etc/passwd")),
                "UNSAFE_CHART", "chart/values.yaml is a symbolic link");

        BareRepo directory = repos.createBare("link-directory");
        refused(directory, commit(directory, chart("chart"), Map.of("chart/files", "/etc")), "UNSAFE_CHART",
                "chart/files is a symbolic link");

        BareRepo chartLink = repos.createBare("link-chart");
        refused(chartLink, commit(chartLink, Map.of(".conveyor.yaml", "manifests:\n  chart: chart\n"), Map.of(
                "chart", "/etc")), "UNSAFE_CHART", "chart is a symbolic link");

        BareRepo overlay = repos.createBare("link-overlay");
        Map<String, String> withOverlay = chart("chart");
        withOverlay.put(".conveyor.yaml", "manifests:\n  values:\n    - file: deploy/values.yaml\n");
        refused(overlay, commit(overlay, withOverlay, Map.of("deploy/values.yaml", "/etc/passwd")), "UNSAFE_CHART",
                "deploy/values.yaml is a symbolic link");

        BareRepo overlayDir = repos.createBare("link-overlay-dir");
        Map<String, String> throughDir = chart("chart");
        throughDir.put(".conveyor.yaml", "manifests:\n  values:\n    - file: deploy/passwd\n");
        refused(overlayDir, commit(overlayDir, throughDir, Map.of("deploy", "/etc")), "UNSAFE_CHART",
                "deploy is a symbolic link");
    }

    @Test
    void dotDotInPathKeysOfConveyorYamlIsRefusedNamingTheKey() throws Exception {
        BareRepo repo = repos.createBare("dotdot-keys");
        Map<String, String> files = chart("chart");
        files.put("values-prod.yaml", "greeting: prod\n");
        files.put(".conveyor.yaml", "manifests:\n  values:\n    - file: deploy/../values-prod.yaml\n");
        refused(repo, commit(repo, files, Map.of()), "CHART_PATH_ESCAPES", "manifests.values[0].file",
                "no ..");

        BareRepo chart = repos.createBare("dotdot-chart");
        Map<String, String> inside = chart("chart");
        inside.put(".conveyor.yaml", "manifests:\n  chart: chart/../chart\n");
        refused(chart, commit(chart, inside, Map.of()), "CHART_PATH_ESCAPES", "manifests.chart");

        BareRepo crds = repos.createBare("dotdot-crds");
        Map<String, String> absolute = chart("chart");
        absolute.put(".conveyor.yaml", "manifests:\n  crds:\n    - path: /etc\n");
        refused(crds, commit(crds, absolute, Map.of()), "CHART_PATH_ESCAPES", "manifests.crds[0].path");
    }

    @Test
    void aChartDependencyOutsideTheChartIsRefusedNamingIt() throws Exception {
        // A chart the host happens to have next to the work directory: before, Helm built and rendered it.
        Path outside = Files.createDirectories(tmp.resolve("outside/templates"));
        Files.writeString(tmp.resolve("outside/Chart.yaml"), "apiVersion: v2\nname: outside\nversion: 0.1.0\n");
        Files.writeString(outside.resolve("cm.yaml"), """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: leaked-from-the-host
                """);
        BareRepo repo = repos.createBare("dep-escape");
        Map<String, String> files = chart("chart");
        files.put("chart/Chart.yaml", """
                apiVersion: v2
                name: app
                version: 0.1.0
                dependencies:
                  - name: outside
                    version: 0.1.0
                    repository: file://../../../outside
                """);
        refused(repo, commit(repo, files, Map.of()), "TEMPLATE_ERROR", "dependencies[outside].repository",
                "leaves the chart directory");
    }

    @Test
    void aChartRepositoryTheOutboundPolicyRefusesIsNeverDialled() throws Exception {
        AtomicInteger accepted = new AtomicInteger();
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                while (!listener.isClosed()) {
                    try (Socket s = listener.accept()) {
                        accepted.incrementAndGet();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            BareRepo repo = repos.createBare("dep-loopback");
            Map<String, String> files = chart("chart");
            files.put("chart/Chart.yaml", "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n"
                    + "  - name: lib\n    version: 0.1.0\n    repository: https://127.0.0.1:" + listener.getLocalPort()
                    + "/charts\n");
            String commit = commit(repo, files, Map.of());

            assertThatThrownBy(() -> service().render(pushed(repo, commit), null)).isInstanceOfSatisfying(
                    StageException.class, e -> {
                        assertThat(e.reason()).as(e.getMessage()).isEqualTo("OUTBOUND_REFUSED");
                        assertThat(e.kind()).isEqualTo(FailureKind.TERMINAL);
                        assertThat(e.details()).containsEntry("field", "Chart.yaml dependencies[lib].repository");
                    });
        }
        assertThat(accepted).hasValue(0);
    }

    @Test
    void aliasBombsAndDeepNestingInValuesFilesAreRefusedNamingTheFile() throws Exception {
        String bomb = """
                a: &a ["x","x","x","x","x","x","x","x","x"]
                b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
                c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
                d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
                e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
                f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
                g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
                """;
        BareRepo overlay = repos.createBare("bomb-overlay");
        Map<String, String> files = chart("chart");
        files.put("deploy/values.yaml", bomb);
        files.put(".conveyor.yaml", "manifests:\n  values:\n    - file: deploy/values.yaml\n");
        refused(overlay, commit(overlay, files, Map.of()), "YAML_ALIAS_BOMB", "deploy/values.yaml is refused",
                "aliases");

        BareRepo deep = repos.createBare("deep-values");
        Map<String, String> nested = chart("chart");
        nested.put("chart/values.yaml", "greeting: hello\nnested: " + "[".repeat(500) + "]".repeat(500) + "\n");
        refused(deep, commit(deep, nested, Map.of()), "YAML_ALIAS_BOMB", "chart/values.yaml is refused",
                "Nesting Depth");
    }

    @Test
    void aFileOverTheSizeLimitIsRefusedBeforeReadingNamingIt() throws Exception {
        BareRepo repo = repos.createBare("big-file");
        Map<String, String> files = chart("chart");
        files.put("chart/files/big.txt", "x".repeat(2 * 1024 * 1024));
        refused(repo, commit(repo, files, Map.of()), "UNSAFE_CHART", "chart/files/big.txt is larger than 1048576");
    }

    @Test
    void aTemplateThatLoopsForMinutesTimesOutAndTheStageStillAnswers() throws Exception {
        BareRepo repo = repos.createBare("loop");
        Map<String, String> files = chart("chart");
        // 3 x 10^8 iterations: about 20 s here of Go, long past the timeout, yet it ends before the test JVM does.
        files.put("chart/templates/loop.yaml",
                "{{- range $i := until 30000 }}{{- range $j := until 10000 }}{{- end }}{{- end }}\n");
        String looping = commit(repo, files, Map.of());
        RenderService service = service(Duration.ofSeconds(2));
        long started = System.nanoTime();

        assertThatThrownBy(() -> service.render(pushed(repo, looping), null)).isInstanceOfSatisfying(
                StageException.class, e -> {
                    assertThat(e.reason()).as(e.getMessage()).isEqualTo("RENDER_TIMEOUT");
                    assertThat(e.kind()).isEqualTo(FailureKind.TERMINAL);
                    assertThat(e.getMessage()).contains("chart").contains("within 2 s");
                    assertThat(e.details()).containsEntry("chartPath", "chart");
                });
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(20));

        // The abandoned Helm call keeps its thread; the stage still renders the next chart.
        BareRepo fine = repos.createBare("after-loop");
        ManifestsValidated out = service.render(pushed(fine, commit(fine, chart("chart"), Map.of())), null);
        assertThat(out.objectCount()).isEqualTo(1);
    }
}
