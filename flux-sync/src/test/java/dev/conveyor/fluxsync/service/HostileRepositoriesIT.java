package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.eclipse.jgit.dircache.DirCache;
import org.eclipse.jgit.dircache.DirCacheBuilder;
import org.eclipse.jgit.dircache.DirCacheEntry;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.client.SopsDecryptor;
import dev.conveyor.fluxsync.domain.DesiredState;
import dev.conveyor.fluxsync.domain.ProblemReason;
import dev.conveyor.fluxsync.domain.SyncProblem;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * GitOps repositories written to attack flux-sync, synced for real: symbolic links that leave the tree (absolute,
 * {@code ../..}, a linked directory), {@code ..} in release path keys, YAML alias bombs and deep nesting, a file far
 * too large. Each is refused with a message naming the file or field; nothing outside the work directory is read or
 * written, and the rest of the repository still syncs.
 */
class HostileRepositoriesIT {

    static KubernetesApiStandIn kube;
    static KubernetesClient client;
    static GitRepos repos;
    static GitAccess access;
    static Path work;
    static RepoReconciler reconciler;

    /** A secret outside the repository that a followed link would leak into a ConfigMap. */
    static Path secret;

    static final String CHART = "apiVersion: v2\nname: web\nversion: 1.0.0\n";
    static final String TEMPLATE = """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: {{ .Release.Name }}
            data:
              files: {{ .Files.Get "data.txt" | quote }}
            """;

    @BeforeAll
    static void start() throws Exception {
        kube = KubernetesApiStandIn.start();
        client = kube.client();
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("apps").endMetadata().build())
                .create();
        repos = new GitRepos();
        access = GitAccess.create(GitCredentials.none());
        work = Files.createTempDirectory("hostile-it");
        secret = Files.writeString(Files.createTempDirectory("outside").resolve("data.txt"), "TOP-SECRET-42");
        RepoMirrors mirrors = new RepoMirrors(work.resolve("mirrors"), access);
        reconciler = new RepoReconciler(mirrors, r -> mirrors, new KubeCluster(kube.newClient(), "conveyor-flux-sync"),
                new ChartRenderer(work.resolve("work")), new RepoReconciler.Settings("charts", "conveyor", Duration
                        .ofSeconds(2), Duration.ofMillis(50), work.resolve("work")),
                new SimpleMeterRegistry(), Clock.systemUTC(), new SopsDecryptor(List::of));
    }

    @AfterAll
    static void stop() {
        access.close();
        repos.close();
        kube.close();
    }

    /** What a tree entry holds: text, a symbolic link, or {@code size} zero bytes streamed in (never in memory). */
    record Entry(FileMode mode, byte[] content, long size) {
        static Entry file(String text) {
            return new Entry(FileMode.REGULAR_FILE, text.getBytes(StandardCharsets.UTF_8), -1);
        }

        static Entry link(String target) {
            return new Entry(FileMode.SYMLINK, target.getBytes(StandardCharsets.UTF_8), -1);
        }

        static Entry zeros(long size) {
            return new Entry(FileMode.REGULAR_FILE, null, size);
        }
    }

    /** Commits exactly {@code files} on main of a new bare repository (what a hostile push leaves there). */
    static BareRepo commit(String name, Map<String, Entry> files) throws IOException {
        BareRepo bare = repos.createBare(name);
        try (Repository repo = bare.open(); ObjectInserter ins = repo.newObjectInserter()) {
            DirCache index = DirCache.newInCore();
            DirCacheBuilder b = index.builder();
            for (Map.Entry<String, Entry> f : new java.util.TreeMap<>(files).entrySet()) {
                Entry e = f.getValue();
                ObjectId blob = e.content() != null
                        ? ins.insert(Constants.OBJ_BLOB, e.content())
                        : ins.insert(Constants.OBJ_BLOB, e.size(), zeros(e.size()));
                DirCacheEntry d = new DirCacheEntry(f.getKey());
                d.setFileMode(e.mode());
                d.setObjectId(blob);
                b.add(d);
            }
            b.finish();
            CommitBuilder c = new CommitBuilder();
            c.setTreeId(index.writeTree(ins));
            PersonIdent who = new PersonIdent("Mallory", "mallory@example.com");
            c.setAuthor(who);
            c.setCommitter(who);
            c.setMessage("hostile\n");
            ObjectId id = ins.insert(c);
            ins.flush();
            RefUpdate u = repo.updateRef("refs/heads/main");
            u.setNewObjectId(id);
            u.forceUpdate();
        }
        return bare;
    }

    static InputStream zeros(long size) {
        return new InputStream() {
            long left = size;

            @Override
            public int read() {
                return left-- > 0 ? 0 : -1;
            }

            @Override
            public int read(byte[] buf, int off, int len) {
                if (left <= 0) {
                    return -1;
                }
                int n = (int) Math.min(len, left);
                java.util.Arrays.fill(buf, off, off + n, (byte) 0);
                left -= n;
                return n;
            }
        };
    }

    static SyncResult sync(String name, BareRepo repo) {
        return reconciler.sync(new RepoSpec(name, repo.fileUrl(), "main", "", Duration.ofMinutes(5), true, false),
                Set.of());
    }

    static String release(String name, String chart) {
        return """
                apiVersion: helm.fluxcd.io/v1
                kind: HelmRelease
                metadata: {name: %s, namespace: apps}
                spec:
                  releaseName: %s
                  chart: %s
                """.formatted(name, name, chart);
    }

    static ReleaseResult result(SyncResult r, String name) {
        return r.releases().stream().filter(x -> x.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(
                        "no release " + name + " in " + r.releases()));
    }

    /** The secret is in nothing the cluster holds. */
    static void nothingLeaked() {
        assertThat(client.configMaps().inAnyNamespace().list().getItems()).noneSatisfy(cm -> assertThat(String
                .valueOf(cm.getData())).contains("TOP-SECRET-42"));
    }

    @Test
    void symbolicLinksThatLeaveTheTreeAreReportedNamingTheFileAndNeverFollowed() throws Exception {
        Path outsideDir = secret.getParent();
        Map<String, Entry> files = new LinkedHashMap<>();
        files.put("apps/good.yaml", Entry.file(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: good, namespace: apps}\ndata: {a: b}\n"));
        // YAML files that are links: absolute, ../.. relative, and into a linked directory
        files.put("apps/absolute.yaml", Entry.link(secret.toString()));
        files.put("apps/relative.yaml", Entry.link("../../../../../../../../.." + secret));
        files.put("apps/linked-dir", Entry.link(outsideDir.toString()));
        // charts holding a link to the secret, absolute and relative, and a chart directory that is a link
        for (String c : List.of("abs", "rel")) {
            files.put("charts/" + c + "/Chart.yaml", Entry.file(CHART));
            files.put("charts/" + c + "/templates/cm.yaml", Entry.file(TEMPLATE));
            files.put("apps/chart-" + c + ".yaml", Entry.file(release("chart-" + c, "{path: charts/" + c + "}")));
        }
        files.put("charts/abs/data.txt", Entry.link(secret.toString()));
        files.put("charts/rel/data.txt", Entry.link("../../../../../../../../../.." + secret));
        files.put("charts/dir", Entry.link(outsideDir.toString()));
        files.put("apps/chart-dir.yaml", Entry.file(release("chart-dir", "{path: charts/dir}")));
        BareRepo repo = commit("symlinks", files);

        SyncResult r = sync("symlinks", repo);

        assertThat(client.configMaps().inNamespace("apps").withName("good").get()).isNotNull();
        Map<String, String> skipped = new LinkedHashMap<>();
        r.skipped().forEach(s -> skipped.put(s.path(), s.reason()));
        assertThat(skipped).containsKeys("apps/absolute.yaml", "apps/relative.yaml", "apps/linked-dir",
                "charts/abs/data.txt", "charts/rel/data.txt", "charts/dir");
        assertThat(skipped.get("apps/absolute.yaml")).contains("symbolic link to the absolute path " + secret)
                .contains("not followed");
        assertThat(skipped.get("apps/relative.yaml")).contains("outside the repository");
        assertThat(r.problems()).filteredOn(p -> p.reason() == ProblemReason.INVALID_FILE).extracting(
                SyncProblem::message).anySatisfy(m -> assertThat(m).startsWith("apps/absolute.yaml is a symbolic link"))
                .anySatisfy(m -> assertThat(m).startsWith("apps/relative.yaml is a symbolic link"))
                .anySatisfy(m -> assertThat(m).startsWith("apps/linked-dir is a symbolic link"));
        for (String c : List.of("abs", "rel")) {
            ReleaseResult x = result(r, "chart-" + c);
            assertThat(x.state()).as(c).isEqualTo(ReleaseResult.State.FAILED);
            assertThat(x.reason()).as(c).isEqualTo(ProblemReason.CHART_PATH_ESCAPES);
            assertThat(x.message()).as(c).contains("chart charts/" + c + ": charts/" + c
                    + "/data.txt is a symbolic link");
        }
        assertThat(result(r, "chart-dir").state()).isEqualTo(ReleaseResult.State.FAILED);
        assertThat(result(r, "chart-dir").message()).contains("charts/dir");
        nothingLeaked();
        // nothing was written through a link: no chart directory outside the work directory
        try (var listing = Files.list(outsideDir)) {
            assertThat(listing.toList()).containsExactly(secret);
        }
    }

    @Test
    void dotDotInEveryPathKeyOfAReleaseIsChartPathEscapesNamingTheField() throws Exception {
        Map<String, Entry> files = new LinkedHashMap<>();
        files.put("apps/op.yaml", Entry.file(release("op", "{path: ../../etc}")));
        files.put("apps/op-git.yaml", Entry.file(release("op-git", "{git: \"file:///nowhere\", ref: main, path: "
                + "../../../etc}")));
        files.put("apps/v2.yaml", Entry.file("""
                apiVersion: source.toolkit.fluxcd.io/v1
                kind: HelmRepository
                metadata: {name: repo, namespace: apps}
                spec: {url: "https://charts.example.com/"}
                ---
                apiVersion: source.toolkit.fluxcd.io/v1
                kind: GitRepository
                metadata: {name: other, namespace: apps}
                spec:
                  url: "https://git.example.com/charts"
                  include: [{repository: {name: x}, fromPath: ../../etc, toPath: x}]
                ---
                apiVersion: helm.toolkit.fluxcd.io/v2
                kind: HelmRelease
                metadata: {name: values-files, namespace: apps}
                spec:
                  chart: {spec: {chart: web, sourceRef: {kind: HelmRepository, name: repo},
                    valuesFiles: [values.yaml, ../../../etc/passwd]}}
                ---
                apiVersion: helm.toolkit.fluxcd.io/v2
                kind: HelmRelease
                metadata: {name: values-file, namespace: apps}
                spec:
                  chart: {spec: {chart: web, sourceRef: {kind: HelmRepository, name: repo},
                    valuesFile: /etc/passwd}}
                ---
                apiVersion: helm.toolkit.fluxcd.io/v2
                kind: HelmRelease
                metadata: {name: include, namespace: apps}
                spec:
                  chart: {spec: {chart: ./web, sourceRef: {kind: GitRepository, name: other}}}
                ---
                apiVersion: helm.toolkit.fluxcd.io/v2
                kind: HelmRelease
                metadata: {name: git-chart, namespace: apps}
                spec:
                  chart: {spec: {chart: ../../../etc, sourceRef: {kind: GitRepository, name: other}}}
                """));
        BareRepo repo = commit("dotdot", files);

        SyncResult r = sync("dotdot", repo);

        Map<String, String> fields = Map.of(
                "op", "spec.chart.path",
                "op-git", "spec.chart.path",
                "values-files", "spec.chart.spec.valuesFiles[1]",
                "values-file", "spec.chart.spec.valuesFile",
                "include", "GitRepository apps/other spec.include[0].fromPath",
                "git-chart", "spec.chart.spec.chart");
        fields.forEach((name, field) -> assertThat(r.problems()).as(name).filteredOn(p -> p.owner().equals(
                "release:apps/" + name)).singleElement().satisfies(p -> {
                    assertThat(p.reason()).isEqualTo(ProblemReason.CHART_PATH_ESCAPES);
                    assertThat(p.message()).contains(field);
                }));
        nothingLeaked();
    }

    @Test
    void yamlAliasBombsDeepNestingAndHugeFilesAreInvalidFilesNamingTheFile() throws Exception {
        StringBuilder bomb = new StringBuilder("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb, namespace: "
                + "apps}\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i <= 9; i++) {
            bomb.append("a").append(i).append(": &a").append(i).append(" [");
            for (int j = 0; j < 10; j++) {
                bomb.append(j == 0 ? "" : ", ").append("*a").append(i - 1);
            }
            bomb.append("]\n");
        }
        String deep = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep, namespace: apps}\ndata: "
                + "[".repeat(5_000) + "]".repeat(5_000) + "\n";
        Map<String, Entry> files = new LinkedHashMap<>();
        files.put("apps/good.yaml", Entry.file(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine, namespace: apps}\ndata: {a: b}\n"));
        files.put("apps/bomb.yaml", Entry.file(bomb.toString()));
        files.put("apps/deep.yaml", Entry.file(deep));
        // 64 MiB: above JGit's in-memory limit, so reading it whole would fail; it is refused by its size first
        files.put("apps/huge.yaml", Entry.zeros(64L * 1024 * 1024));
        files.put("charts/big/Chart.yaml", Entry.file(CHART));
        files.put("charts/big/templates/cm.yaml", Entry.file(TEMPLATE));
        files.put("charts/big/data.txt", Entry.zeros(64L * 1024 * 1024));
        files.put("apps/big-chart.yaml", Entry.file(release("big-chart", "{path: charts/big}")));
        BareRepo repo = commit("yaml-bombs", files);

        long start = System.nanoTime();
        SyncResult r = sync("yaml-bombs", repo);
        long millis = (System.nanoTime() - start) / 1_000_000;

        assertThat(client.configMaps().inNamespace("apps").withName("fine").get()).isNotNull();
        Map<String, String> invalid = new LinkedHashMap<>();
        r.problems().stream().filter(p -> p.reason() == ProblemReason.INVALID_FILE).forEach(p -> invalid.put(p
                .owner(), p.message()));
        assertThat(invalid.values()).anySatisfy(m -> assertThat(m).startsWith("apps/bomb.yaml"))
                .anySatisfy(m -> assertThat(m).startsWith("apps/deep.yaml"))
                .anySatisfy(m -> assertThat(m).startsWith("apps/huge.yaml").contains("larger than"));
        assertThat(client.configMaps().inNamespace("apps").withName("bomb").get()).isNull();
        assertThat(client.configMaps().inNamespace("apps").withName("deep").get()).isNull();
        ReleaseResult big = result(r, "big-chart");
        assertThat(big.state()).isEqualTo(ReleaseResult.State.FAILED);
        assertThat(big.message()).contains("charts/big/data.txt is larger than");
        assertThat(millis).as("refused quickly, not parsed at length").isLessThan(60_000);
        assertThat(r.skipped()).extracting(DesiredState.Skipped::path).doesNotContain("apps/good.yaml");
    }
}
