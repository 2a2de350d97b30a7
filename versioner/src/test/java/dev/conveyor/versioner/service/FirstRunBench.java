package dev.conveyor.versioner.service;

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

import dev.conveyor.events.v1.Artifact;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.PushRace;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.stage.warmup.WarmUpResult;
import dev.conveyor.stage.warmup.WarmUps;
import dev.conveyor.versioner.client.TagPublisher;
import dev.conveyor.versioner.domain.SemVer;

/**
 * The first resolve-and-tag of a fresh JVM with and without the warm-up before it: each measurement is its own child
 * JVM (the first piece of work happens once per process), warm-up off and on alternating. The real work is a CD build
 * of an app repository (3 commits, a tag) over {@code file://}, a different repository from the warm-up's. Prints each
 * child's figures with the load average. Run:
 *
 * <pre>
 * bench/run versioner dev.conveyor.versioner.service.FirstRunBench [pairs, default 4]
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
        System.out.printf("first resolve+tag, median: warm-up off %d ms, on %d ms (%d pairs)%n", median(off),
                median(on),
                pairs);
    }

    private static long median(List<String> lines) {
        List<Long> ms = lines.stream().map(l -> Long.parseLong(l.replaceFirst("^first resolve\\+tag (\\d+) ms.*$",
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
        String head;
        Path repo = tmp.resolve("app");
        try (Git git = Git.init().setInitialBranch("main").setDirectory(repo.toFile()).call()) {
            for (int i = 0; i < 3; i++) {
                Files.writeString(repo.resolve("f" + i + ".txt"), "x" + i);
                git.add().addFilepattern("f" + i + ".txt").call();
                head = git.commit().setMessage(i == 2 ? "feat: cart" : "fix: " + i).setAuthor(who).setCommitter(who)
                        .call().name();
                if (i == 0) {
                    git.tag().setName("v1.0.0").setAnnotated(false).call();
                }
            }
            head = git.getRepository().resolve("HEAD").name();
        }
        try (GitAccess access = GitAccess.create(GitCredentials.none())) {
            VersionService service = new VersionService(new PushRace(new RepoMirrors(tmp.resolve("mirrors"), access),
                    new Backoff(3, Duration.ofMillis(10), Duration.ofMillis(100))), new TagPublisher(access), "v",
                    SemVer.of(0, 1, 0), "Conveyor", "conveyor@conveyor.dev", Clock.systemUTC());
            long warmMs = 0;
            if (warmUp) {
                WarmUpResult r = new WarmUps(Files.createDirectories(tmp.resolve("scratch"))).run("versioner", List.of(
                        new VersionerWarmUp(service, access)));
                if (r.outcome() != WarmUpResult.Outcome.DONE) {
                    throw new IllegalStateException("warm-up " + r);
                }
                warmMs = r.took().toMillis();
            }
            BuildSucceeded build = new BuildSucceeded(PipelineRun.start("shop", repo.toUri().toString(), head, "main",
                    null, Flow.CD), Instant.now(), null, "https://jenkins.example.com/1/",
                    new Artifact("file:///a.jar",
                            "0".repeat(64), null, null),
                    null, null);
            long t0 = System.nanoTime();
            String version = service.resolveQuietly(build, null).version();
            long firstMs = (System.nanoTime() - t0) / 1_000_000;
            long t1 = System.nanoTime();
            BuildSucceeded second = new BuildSucceeded(build.run(), Instant.now(), null, build.buildUrl(), build
                    .artifact(), null, null);
            service.resolveQuietly(second, null);
            long againMs = (System.nanoTime() - t1) / 1_000_000;
            System.out.printf(
                    "RESULT first resolve+tag %d ms (version %s), the same again (tag exists) %d ms, warm-up %d ms%n",
                    firstMs, version, againMs, warmMs);
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
