package dev.conveyor.manifests.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import java.util.stream.Stream;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.junit.jupiter.api.AfterAll;
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
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.PushRace;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitDaemonServer;
import dev.conveyor.testkit.git.GitRepos;

/** The render service against real charts, real Helm and a real git daemon: CD commits, CI diffs, bad input. */
class RenderServiceIT {

    static final String DIGEST = "sha256:" + "c0ffee".repeat(10) + "abcd";
    static final BuiltinSchemas BUILTINS = BuiltinSchemas.load("1.32");
    static final byte[] REDACTION_KEY = "a test redaction key of some length".getBytes(StandardCharsets.UTF_8);

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

    /** A service whose every fetch of the app repository is followed by {@code afterFetch} (round number given). */
    RenderService service(int maxOutputBytes, IntConsumer afterFetch) {
        RenderSettings settings = new RenderSettings(tmp.resolve("work"), "1.32", "default", "main", "manifests",
                ValidationSettings.strictDefaults(), new ManifestParser.Limits(maxOutputBytes, 50, 100_000, 64), true,
                20_000, 50, 1024 * 1024, 1000, "Conveyor", "conveyor@conveyor.dev");
        RepoMirrors mirrors = new RepoMirrors(tmp.resolve("mirrors"), access);
        AtomicInteger fetches = new AtomicInteger();
        PushRace race = new PushRace(mirrors, url -> {
            Repository fresh = mirrors.fetch(url);
            afterFetch.accept(fetches.incrementAndGet());
            return fresh;
        }, new Backoff(3, Duration.ZERO, Duration.ZERO), d -> {
        });
        return new RenderService(mirrors, new HelmRenderer(), new ManifestsCommitter(access),
                new SecretRedactor(REDACTION_KEY, List.of("Secret")), BUILTINS, List.of(), settings, Clock.systemUTC(),
                race);
    }

    RenderService service() {
        return service(1024 * 1024, round -> {
        });
    }

    static ImagePushed pushed(BareRepo repo, String commit, String version, Flow flow) {
        PipelineRun run = flow == Flow.CD
                ? PipelineRun.start(repo.name(), daemon.url(repo), commit, "main", null, Flow.CD)
                : PipelineRun.start(repo.name(), daemon.url(repo), commit, "feature", 7, Flow.CI);
        return new ImagePushed(run, Instant.now(), null, version, "registry.example.com/team/" + repo.name(),
                List.of(version), DIGEST, 1234);
    }

    static String commitFiles(BareRepo repo, Map<String, String> files, String message) {
        var writer = repo.writer().message(message);
        files.forEach(writer::file);
        return writer.commit();
    }

    @Test
    void helmCreateChartIsRenderedValidatedAndCommittedOnceEvenWhenReplayed() throws Exception {
        BareRepo repo = repos.createBare("create-app");
        String head = commitFiles(repo, TestCharts.helmCreate("create-app", "chart"), "feat: chart");
        ImagePushed image = pushed(repo, head, "1.4.0", Flow.CD);

        ManifestsValidated out = service().render(image, "cause-1");

        assertThat(out.chartName()).isEqualTo("create-app");
        assertThat(out.chartPath()).isEqualTo("chart");
        // helm create's test Pod (a helm.sh/hook: test) is rendered, validated and committed like the others
        assertThat(out.objectCount()).isEqualTo(4);
        assertThat(out.renderedDigest()).startsWith("sha256:");
        assertThat(out.manifestsCommit()).isNotNull();
        assertThat(out.diff()).isNull();
        Path clone = repo.cloneTo(tmp.resolve("clone"));
        try (Stream<Path> files = Files.list(clone.resolve("manifests"))) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted()).containsExactly(
                    "deployment-default-create-app.yaml", "pod-default-create-app-test-connection.yaml",
                    "service-default-create-app.yaml", "serviceaccount-default-create-app.yaml");
        }
        String deployment = Files.readString(clone.resolve("manifests/deployment-default-create-app.yaml"));
        assertThat(deployment).contains("# Source: create-app/templates/deployment.yaml")
                .contains("image: registry.example.com/team/create-app:1.4.0")
                .contains("helm.sh/chart: create-app-1.4.0").contains("app.kubernetes.io/version: 1.4.0");
        try (Git git = Git.open(clone.toFile())) {
            RevCommit last = git.log().setMaxCount(1).call().iterator().next();
            assertThat(last.name()).isEqualTo(out.manifestsCommit());
            assertThat(last.getShortMessage()).isEqualTo("chore(manifests): render 1.4.0 [skip ci]");
            assertThat(last.getFullMessage()).contains("Conveyor-Run: " + image.run().runId());
            assertThat(last.getParent(0).name()).isEqualTo(head);
        }

        int commits = repo.commits().size();
        ManifestsValidated replay = service().render(image, "cause-1");
        assertThat(replay.manifestsCommit()).as("a replay reports the commit its first run made")
                .isEqualTo(out.manifestsCommit());
        assertThat(replay.renderedDigest()).isEqualTo(out.renderedDigest());
        assertThat(repo.commits()).hasSize(commits);
    }

    @Test
    void anOlderRunDeliveredAgainAfterANewerOneCommitsNothing() throws Exception {
        BareRepo repo = repos.createBare("redelivered-app");
        String older = commitFiles(repo, TestCharts.helmCreate("redelivered-app", "chart"), "feat: chart");
        ImagePushed first = pushed(repo, older, "1.4.0", Flow.CD);
        ManifestsValidated out = service().render(first, "cause-1");
        String newer = commitFiles(repo, Map.of("src/Main.java", "class Main {}\n"), "feat: code");
        service().render(pushed(repo, newer, "1.5.0", Flow.CD), "cause-2");
        int commits = repo.commits().size();

        // What a renderer restarted before its offsets were committed gets: the older input again.
        ManifestsValidated again = service().render(first, "cause-1");

        assertThat(repo.commits()).as("no commit rolls the manifests back to 1.4.0").hasSize(commits);
        assertThat(again.manifestsCommit()).isEqualTo(out.manifestsCommit());
        Path clone = repo.cloneTo(tmp.resolve("clone-redelivered"));
        assertThat(Files.readString(clone.resolve("manifests/deployment-default-redelivered-app.yaml"))).contains(
                "image: registry.example.com/team/redelivered-app:1.5.0");
    }

    @Test
    void secretValuesNeverReachTheRepositoryYetAChangedSecretIsACommit() throws Exception {
        BareRepo repo = repos.createBare("vault-app");
        String head = commitFiles(repo, TestCharts.withSecret("chart", "first-seed"), "feat: chart");
        List<String> firstValues = secretValues("first-seed");

        ManifestsValidated first = service().render(pushed(repo, head, "1.0.0", Flow.CD), null);

        assertThat(first.objectCount()).isEqualTo(2);
        assertThat(first.manifestsCommit()).isNotNull();
        Map<String, String> tree = treeAt(repo, first.manifestsCommit());
        assertNoValueIn(repo, first.manifestsCommit(), tree, firstValues);
        String secret = tree.get("manifests/secret-default-vault-app-db.yaml");
        assertThat(secret).startsWith(SecretRedactor.FILE_NOTE + "# Source: vault/templates/secret.yaml\n")
                .containsPattern("password: REDACTED hmac-sha256:[0-9a-f]{16}\n")
                .containsPattern("token: REDACTED hmac-sha256:[0-9a-f]{16}\n").contains("type: Opaque");
        assertThat(tree.get("manifests/deployment-default-vault-app.yaml")).as("other kinds are left alone")
                .startsWith("# Source: vault/templates/deployment.yaml").contains("name: vault-app-db");
        assertThat(first.renderedDigest()).as("the digest is the committed files' digest")
                .isEqualTo(digestOf(tree));

        // Another run, same values: the same placeholders, so no commit.
        String docs = repo.writer().file("README.md", "docs").message("docs: readme").commit();
        int commits = repo.commits().size();
        ManifestsValidated same = service().render(pushed(repo, docs, "1.0.0", Flow.CD), null);
        assertThat(same.manifestsCommit()).isNull();
        assertThat(same.renderedDigest()).isEqualTo(first.renderedDigest());
        assertThat(repo.commits()).hasSize(commits);

        // A rotated secret changes the placeholders: a new commit, still without any value.
        String rotated = commitFiles(repo, Map.of("chart/values.yaml", TestCharts.withSecret("chart", "second-seed")
                .get("chart/values.yaml")), "chore: rotate");
        ManifestsValidated changed = service().render(pushed(repo, rotated, "1.0.0", Flow.CD), null);
        assertThat(changed.manifestsCommit()).isNotNull().isNotEqualTo(first.manifestsCommit());
        assertThat(changed.renderedDigest()).isNotEqualTo(first.renderedDigest());
        Map<String, String> rotatedTree = treeAt(repo, changed.manifestsCommit());
        assertNoValueIn(repo, changed.manifestsCommit(), rotatedTree, secretValues("second-seed"));
        assertNoValueIn(repo, changed.manifestsCommit(), rotatedTree, firstValues);
        assertThat(rotatedTree.get("manifests/secret-default-vault-app-db.yaml")).isNotEqualTo(secret)
                .startsWith(SecretRedactor.FILE_NOTE);
        assertThat(rotatedTree.get("manifests/deployment-default-vault-app.yaml")).isEqualTo(tree.get(
                "manifests/deployment-default-vault-app.yaml"));

        // A pull request rotating the secret again: the diff shows the Secret changed, never a value.
        var writer = repo.writer().branch("feature").message("chore: rotate in a PR");
        TestCharts.withSecret("chart", "third-seed").forEach(writer::file);
        ManifestsValidated pr = service().render(pushed(repo, writer.commit(), "1.0.1-pr.7", Flow.CI), null);
        assertThat(pr.diff()).startsWith("Rendered manifests: 0 added, 1 changed, 0 removed")
                .contains("--- a/secret-default-vault-app-db.yaml").contains("+  password: REDACTED hmac-sha256:");
        for (String value : concat(secretValues("second-seed"), secretValues("third-seed"))) {
            assertThat(pr.diff()).doesNotContain(value);
        }
    }

    /** The rendered Secret's values for a seed, as the chart derives them: clear and base64, as they would appear. */
    static List<String> secretValues(String seed) throws Exception {
        String hex = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(seed
                .getBytes(StandardCharsets.UTF_8)));
        String password = hex.substring(0, 24);
        String token = "tok-" + hex.substring(24, 36);
        java.util.Base64.Encoder b64 = java.util.Base64.getEncoder();
        return List.of(password, b64.encodeToString(password.getBytes(StandardCharsets.UTF_8)), token, b64
                .encodeToString(token.getBytes(StandardCharsets.UTF_8)), hex.substring(24, 36));
    }

    static List<String> concat(List<String> a, List<String> b) {
        return Stream.concat(a.stream(), b.stream()).toList();
    }

    /** Every file of the commit's tree in the remote, path to content. */
    static Map<String, String> treeAt(BareRepo repo, String commit) throws IOException {
        Map<String, String> files = new java.util.TreeMap<>();
        try (org.eclipse.jgit.lib.Repository git = repo.open();
                org.eclipse.jgit.revwalk.RevWalk walk = new org.eclipse.jgit.revwalk.RevWalk(git);
                org.eclipse.jgit.treewalk.TreeWalk tree = new org.eclipse.jgit.treewalk.TreeWalk(git)) {
            tree.addTree(walk.parseCommit(org.eclipse.jgit.lib.ObjectId.fromString(commit)).getTree());
            tree.setRecursive(true);
            while (tree.next()) {
                files.put(tree.getPathString(), new String(git.open(tree.getObjectId(0)).getBytes(),
                        StandardCharsets.UTF_8));
            }
        }
        return files;
    }

    static void assertNoValueIn(BareRepo repo, String commit, Map<String, String> tree, List<String> values)
            throws IOException {
        String message;
        try (org.eclipse.jgit.lib.Repository git = repo.open();
                org.eclipse.jgit.revwalk.RevWalk walk = new org.eclipse.jgit.revwalk.RevWalk(git)) {
            message = walk.parseCommit(org.eclipse.jgit.lib.ObjectId.fromString(commit)).getFullMessage();
        }
        assertThat(tree).isNotEmpty();
        for (String value : values) {
            assertThat(message).doesNotContain(value);
            tree.forEach((path, content) -> assertThat(content).as(path + " holds a secret value").doesNotContain(
                    value));
        }
    }

    static String digestOf(Map<String, String> tree) {
        Map<String, String> manifests = new java.util.TreeMap<>();
        tree.forEach((path, content) -> {
            if (path.startsWith("manifests/")) {
                manifests.put(path.substring("manifests/".length()), content);
            }
        });
        return dev.conveyor.manifests.domain.ManifestSet.ofFiles(manifests).digest();
    }

    @Test
    void aChartWithASubchartRendersBoth() {
        BareRepo repo = repos.createBare("sub-app");
        String head = commitFiles(repo, TestCharts.withSubchart("deploy/shop"), "feat: chart");
        repo.writer().file(".conveyor.yaml", """
                manifests:
                  chart: deploy/shop
                  namespace: shop
                """).message("chore: config").commit();
        head = repo.head("main").orElseThrow();

        ManifestsValidated out = service().render(pushed(repo, head, "2.0.0", Flow.CD), null);

        assertThat(out.chartName()).isEqualTo("shop");
        assertThat(out.objectCount()).isEqualTo(3);
        Path clone = repo.cloneTo(tmp.resolve("clone-sub"));
        assertThat(clone.resolve("manifests/deployment-shop-sub-app-shop.yaml")).content().contains(
                "image: registry.example.com/team/sub-app@" + DIGEST);
        assertThat(clone.resolve("manifests/statefulset-shop-sub-app-cache.yaml")).content().contains("replicas: 2")
                .contains("# Source: shop/charts/cache/templates/statefulset.yaml");
        assertThat(clone.resolve("manifests/service-shop-sub-app-cache.yaml")).exists();
    }

    @Test
    void aDeclaredFileDependencyIsBuiltAndRendered() {
        BareRepo repo = repos.createBare("dep-app");
        String head = commitFiles(repo, Map.of("chart/Chart.yaml", """
                apiVersion: v2
                name: app
                version: 0.1.0
                icon: https://example.com/icon.png
                dependencies:
                  - name: lib
                    version: 0.2.0
                    repository: file://deps/lib
                """, "chart/values.yaml", "image: {repository: x, tag: y, digest: z}\n",
                "chart/deps/lib/Chart.yaml", """
                        apiVersion: v2
                        name: lib
                        version: 0.2.0
                        icon: https://example.com/icon.png
                        """, "chart/deps/lib/templates/cm.yaml", """
                        apiVersion: v1
                        kind: ConfigMap
                        metadata:
                          name: {{ .Release.Name }}-lib
                        data:
                          from: lib
                        """), "feat: dependency");

        ManifestsValidated out = service().render(pushed(repo, head, "0.5.0", Flow.CD), null);

        assertThat(out.objectCount()).isEqualTo(1);
        Path clone = repo.cloneTo(tmp.resolve("clone-dep"));
        assertThat(clone.resolve("manifests/configmap-default-dep-app-lib.yaml")).content().contains(
                "# Source: app/charts/lib/templates/cm.yaml");
    }

    @Test
    void aChartWithACrdValidatesItsCustomResources() {
        BareRepo repo = repos.createBare("crd-app");
        String good = commitFiles(repo, TestCharts.withCrd("chart", "size: 3\nimage: {{ .Values.image.repository }}"),
                "feat: widgets");
        ManifestsValidated out = service().render(pushed(repo, good, "0.3.0", Flow.CD), null);
        assertThat(out.objectCount()).isEqualTo(1);

        String bad = commitFiles(repo, TestCharts.withCrd("chart", "size: three\ncolour: red"), "fix: widgets");
        int commits = repo.commits().size();
        assertThatThrownBy(() -> service().render(pushed(repo, bad, "0.3.1", Flow.CD), null))
                .isInstanceOfSatisfying(StageException.class, e -> {
                    assertThat(e.reason()).isEqualTo("INVALID_MANIFESTS");
                    assertThat(e.getMessage()).contains("2 problem(s)")
                            // each problem with its document in Helm's output and the line it starts at
                            .containsPattern("widgets/templates/widget.yaml \\(document \\d+, line \\d+\\): "
                                    + "Widget crd-app: spec.size: expected integer, got string")
                            .containsPattern("widgets/templates/widget.yaml \\(document \\d+, line \\d+\\): "
                                    + "Widget crd-app: spec.colour: unknown field \"colour\"");
                });
        assertThat(repo.commits()).hasSize(commits);
    }

    @Test
    void aPushRaceIsRebasedOntoTheNewTip() {
        BareRepo repo = repos.createBare("race-app");
        String head = commitFiles(repo, TestCharts.helmCreate("race-app", "chart"), "feat: chart");
        AtomicInteger pushes = new AtomicInteger();
        // Another writer moves main right after the first fetch of the push rounds: the first push loses.
        RenderService racing = service(1024 * 1024, fetch -> {
            if (fetch == 1) {
                pushes.incrementAndGet();
                repo.writer().file("README.md", "someone else").message("docs: meanwhile").commit();
            }
        });

        ManifestsValidated out = racing.render(pushed(repo, head, "1.0.0", Flow.CD), null);

        assertThat(pushes).hasValue(1);
        List<BareRepo.Commit> commits = repo.commits();
        assertThat(commits.get(0).id()).isEqualTo(out.manifestsCommit());
        assertThat(commits.get(1).shortMessage()).isEqualTo("docs: meanwhile");
        Path clone = repo.cloneTo(tmp.resolve("clone-race"));
        assertThat(clone.resolve("README.md")).hasContent("someone else");
        assertThat(clone.resolve("manifests/deployment-race-app-race-app.yaml")).doesNotExist();
        assertThat(clone.resolve("manifests/deployment-default-race-app.yaml")).exists();
    }

    @Test
    void aPullRequestGetsADiffNamingExactlyTheChangedObjects() {
        BareRepo repo = repos.createBare("pr-app");
        commitFiles(repo, TestCharts.withSubchart("chart"), "feat: chart");
        Map<String, String> changed = new java.util.LinkedHashMap<>(TestCharts.withSubchart("chart"));
        changed.put("chart/values.yaml", changed.get("chart/values.yaml").replace("replicaCount: 1",
                "replicaCount: 3"));
        changed.put("chart/templates/configmap.yaml", """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: {{ .Release.Name }}-settings
                data:
                  mode: fast
                """);
        var writer = repo.writer().branch("feature").message("feat: scale");
        changed.forEach(writer::file);
        writer.delete("chart/charts/cache/templates/service.yaml");
        String prHead = writer.commit();

        ManifestsValidated out = service().render(pushed(repo, prHead, "1.1.0-pr.7", Flow.CI), null);

        assertThat(out.manifestsCommit()).isNull();
        assertThat(out.diff()).startsWith("Rendered manifests: 1 added, 1 changed, 1 removed")
                .contains("+ added configmap-default-pr-app-settings.yaml")
                .contains("- removed service-default-pr-app-cache.yaml")
                .contains("--- a/deployment-default-pr-app-shop.yaml").contains("-  replicas: 1")
                .contains("+  replicas: 3")
                .doesNotContain("statefulset");
        assertThat(repo.head("feature")).contains(prHead);
        assertThat(repo.commits()).hasSize(1);
    }

    @Test
    void badInputFailsClearlyAndCommitsNothing() throws IOException {
        BareRepo repo = repos.createBare("bad-app");
        Map<String, String> chart = new java.util.LinkedHashMap<>(TestCharts.withSubchart("chart"));
        chart.put("chart/templates/broken.yaml", "{{ .Values.nope.deeper }}\n");
        String broken = commitFiles(repo, chart, "feat: broken");
        expectFailure(service(), pushed(repo, broken, "1.0.0", Flow.CD), "TEMPLATE_ERROR", "nil pointer evaluating");

        String bomb = repo.writer().delete("chart/templates/broken.yaml").file("chart/templates/bomb.yaml", """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: bomb
                data:
                  a: &a ["x","x","x","x","x","x","x","x","x"]
                  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
                  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
                  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
                  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
                  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
                  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
                """).message("feat: bomb").commit();
        expectFailure(service(), pushed(repo, bomb, "1.0.1", Flow.CD), "YAML_ALIAS_BOMB",
                "shop/templates/bomb.yaml");

        String fine = repo.writer().delete("chart/templates/bomb.yaml").message("fix: no bomb").commit();
        expectFailure(service(200, round -> {
        }), pushed(repo, fine, "1.0.2", Flow.CD), "OUTPUT_TOO_LARGE", "longer than 200 characters");

        repo.writer().file(".conveyor.yaml", "manifests:\n  chart: ../../etc\n").message("chore: escape").commit();
        expectFailure(service(), pushed(repo, repo.head("main").orElseThrow(), "1.0.3", Flow.CD),
                "CHART_PATH_ESCAPES", "manifests.chart must be a relative path inside the repository");

        repo.writer().file(".conveyor.yaml", "manifests:\n  chart: nowhere\n").message("chore: move").commit();
        expectFailure(service(), pushed(repo, repo.head("main").orElseThrow(), "1.0.4", Flow.CD), "CHART_NOT_FOUND",
                "no Chart.yaml in nowhere/");

        assertThat(repo.commits()).noneMatch(c -> c.shortMessage().startsWith("chore(manifests)"));
        try (Stream<Path> left = Files.list(tmp.resolve("work"))) {
            assertThat(left).as("work directories are removed on every path").isEmpty();
        }
    }

    private static void expectFailure(RenderService service, ImagePushed image, String reason, String message) {
        assertThatThrownBy(() -> service.render(image, null)).isInstanceOfSatisfying(StageException.class, e -> {
            assertThat(e.reason()).as(e.getMessage()).isEqualTo(reason);
            assertThat(e.getMessage()).contains(message);
        });
    }
}
