package dev.conveyor.manifests.service;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.PersonIdent;

import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.manifests.client.HelmRenderer;
import dev.conveyor.manifests.client.ManifestsCommitter;
import dev.conveyor.manifests.domain.ManifestParser;
import dev.conveyor.manifests.domain.SecretRedactor;
import dev.conveyor.manifests.domain.ValidationSettings;
import dev.conveyor.manifests.domain.schema.BuiltinSchemas;
import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.PushRace;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.stage.warmup.WarmUpResult;
import dev.conveyor.stage.warmup.WarmUps;

/**
 * The first render-validate-commit of a fresh JVM with and without the warm-up before it: each measurement is its own child
 * JVM (the first piece of work happens once per process), warm-up off and on alternating. The real work is a CD render
 * of an app's chart (a Deployment and a Service) from a bare repository over {@code file://}, other than the
 * warm-up's, with lint, strict validation and the manifests commit. Prints each
 * child's figures with the load average. Run:
 *
 * <pre>
 * bench/run manifest-renderer dev.conveyor.manifests.service.FirstRunBench [pairs, default 4]
 * </pre>
 */
public final class FirstRunBench {

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].startsWith("child-")) {
            child(args[0].equals("child-on"));
            return;
        }
        int pairs = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> off = new ArrayList<>();
        List<String> on = new ArrayList<>();
        for (int i = 0; i < pairs; i++) {
            // Alternate which goes first, so a drift in load does not favour one side.
            for (String mode : i % 2 == 0 ? List.of("off", "on") : List.of("on", "off")) {
                String line = runChild(java, mode);
                System.out.printf("pair %d warm-up %-3s %s; load average %s%n", i + 1, mode, line, loadAverage());
                (mode.equals("on") ? on : off).add(line);
            }
        }
        System.out.printf("first render+commit, median: warm-up off %d ms, on %d ms (%d pairs)%n", median(off),
                median(on),
                pairs);
    }

    private static long median(List<String> lines) {
        List<Long> ms = lines.stream().map(l -> Long.parseLong(l.replaceFirst("^first render\\+commit (\\d+) ms.*$",
                "$1"))).sorted().toList();
        return ms.get(ms.size() / 2);
    }

    private static String runChild(String java, String mode) throws Exception {
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), FirstRunBench.class
                .getName(), "child-" + mode).redirectErrorStream(true).start();
        String result = "no result";
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null;) {
                if (line.startsWith("RESULT ")) {
                    result = line.substring(7);
                }
            }
        }
        if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException("child " + mode + " failed: " + result);
        }
        return result;
    }

    private static void child(boolean warmUp) throws Exception {
        Path tmp = Files.createTempDirectory("first-run-bench");
        PersonIdent who = new PersonIdent("bench", "bench@conveyor.invalid", Instant.EPOCH, ZoneOffset.UTC);
        Path repo = tmp.resolve("app");
        String head;
        try (Git git = Git.init().setInitialBranch("main").setDirectory(repo.toFile()).call()) {
            Files.createDirectories(repo.resolve("chart/templates"));
            Files.writeString(repo.resolve("chart/Chart.yaml"), "apiVersion: v2\nname: shop\nversion: 0.0.0\n");
            Files.writeString(repo.resolve("chart/values.yaml"), "image:\n  repository: r\n  tag: t\n  digest: \"\"\n");
            Files.writeString(repo.resolve("chart/templates/deployment.yaml"), """
                    apiVersion: apps/v1
                    kind: Deployment
                    metadata:
                      name: {{ .Release.Name }}
                    spec:
                      selector:
                        matchLabels: {app: shop}
                      template:
                        metadata:
                          labels: {app: shop}
                        spec:
                          containers:
                            - name: shop
                              image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
                    ---
                    apiVersion: v1
                    kind: Service
                    metadata:
                      name: {{ .Release.Name }}
                    spec:
                      selector: {app: shop}
                      ports: [{port: 80}]
                    """);
            git.add().addFilepattern("chart").call();
            head = git.commit().setMessage("feat: chart").setAuthor(who).setCommitter(who).call().name();
        }
        // A bare remote to commit the manifests to, as the stage does.
        Path bare = tmp.resolve("app.git");
        Git.cloneRepository().setBare(true).setURI(repo.toUri().toString()).setDirectory(bare.toFile()).call().close();
        try (GitAccess access = GitAccess.create(GitCredentials.none())) {
            RenderSettings settings = new RenderSettings(Files.createDirectories(tmp.resolve("work")), "1.32",
                    "default", "main", "manifests", ValidationSettings.strictDefaults(), new ManifestParser.Limits(
                            8 * 1024 * 1024, 50, 100_000, 64),
                    true, 20_000, 50, 1024 * 1024, 1000, "Conveyor",
                    "conveyor@conveyor.dev");
            RepoMirrors mirrors = new RepoMirrors(tmp.resolve("mirrors"), access);
            RenderService service = new RenderService(mirrors, new HelmRenderer(), new ManifestsCommitter(access),
                    new SecretRedactor("a bench key of some length".getBytes(StandardCharsets.UTF_8), List.of(
                            "Secret")),
                    BuiltinSchemas.cached("1.32"), List.of(), settings, Clock.systemUTC(),
                    new PushRace(mirrors, new Backoff(3, Duration.ofMillis(10), Duration.ofMillis(100))));
            long warmMs = 0;
            if (warmUp) {
                WarmUpResult r = new WarmUps(Files.createDirectories(tmp.resolve("scratch"))).run("manifest-renderer",
                        List.of(new RendererWarmUp(service, access)));
                if (r.outcome() != WarmUpResult.Outcome.DONE) {
                    throw new IllegalStateException("warm-up " + r);
                }
                warmMs = r.took().toMillis();
            }
            ImagePushed image = new ImagePushed(PipelineRun.start("shop", bare.toUri().toString(), head, "main", null,
                    Flow.CD), Instant.now(), null, "1.0.0", "registry.example.com/shop", List.of("1.0.0"),
                    "sha256:"
                            + "ab".repeat(32),
                    1);
            long t0 = System.nanoTime();
            int objects = service.renderQuietly(image, null).objectCount();
            long firstMs = (System.nanoTime() - t0) / 1_000_000;
            ImagePushed next = new ImagePushed(PipelineRun.start("shop", bare.toUri().toString(), head, "main", null,
                    Flow.CD), Instant.now(), null, "1.0.1", "registry.example.com/shop", List.of("1.0.1"),
                    "sha256:"
                            + "cd".repeat(32),
                    1);
            long t1 = System.nanoTime();
            service.renderQuietly(next, null);
            long againMs = (System.nanoTime() - t1) / 1_000_000;
            System.out.printf("RESULT first render+commit %d ms (%d objects), the next version %d ms, warm-up %d ms%n",
                    firstMs, objects, againMs, warmMs);
        } finally {
            try (var paths = Files.walk(tmp)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }
}
