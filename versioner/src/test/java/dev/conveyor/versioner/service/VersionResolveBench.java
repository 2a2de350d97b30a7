package dev.conveyor.versioner.service;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import dev.conveyor.events.v1.Artifact;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.PushRace;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.versioner.client.TagPublisher;
import dev.conveyor.versioner.domain.SemVer;

/**
 * Version resolution on a generated repository (10,000 commits, 1,000 tags) against the git CLI doing the least it
 * can for the same answer ({@code git describe --tags --abbrev=0} then {@code git log <tag>..HEAD}). Prints median
 * and p90 of each. Run:
 *
 * <pre>
 * bench/run versioner dev.conveyor.versioner.service.VersionResolveBench
 * </pre>
 */
public final class VersionResolveBench {

    static final int COMMITS = 10_000;
    static final int TAG_EVERY = 10;
    static final int RUNS = 15;

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("conveyor-bench-versioner-");
        Path repo = dir.resolve("app.git");
        long genStart = System.nanoTime();
        generate(repo);
        System.out.printf("generated %d commits, %d tags in %d ms%n", COMMITS, COMMITS / TAG_EVERY,
                (System.nanoTime() - genStart) / 1_000_000);
        String head = run(repo, "git", "rev-parse", "HEAD").strip();
        String url = repo.toUri().toString();
        BuildSucceeded build = new BuildSucceeded(PipelineRun.start("bench", url, head, "pr", 1, Flow.CI),
                Instant.now(), null, "https://jenkins.example.com/1/",
                new Artifact("file:///a.jar", "0".repeat(64), null, null), null, null);

        try (GitAccess access = GitAccess.create(GitCredentials.none())) {
            long[] cold = new long[5];
            VersionResolved answer = null;
            for (int i = 0; i < cold.length; i++) {
                Path mirrors = dir.resolve("cold-" + i);
                long start = System.nanoTime();
                answer = service(access, mirrors).resolve(build, null);
                cold[i] = System.nanoTime() - start;
            }
            VersionService warmService = service(access, dir.resolve("warm"));
            warmService.resolve(build, null);
            long[] warm = new long[RUNS];
            for (int i = 0; i < RUNS; i++) {
                long start = System.nanoTime();
                warmService.resolve(build, null);
                warm[i] = System.nanoTime() - start;
            }
            long[] cli = new long[RUNS];
            String cliTag = null;
            for (int i = 0; i < RUNS; i++) {
                long start = System.nanoTime();
                cliTag = run(repo, "git", "describe", "--tags", "--abbrev=0").strip();
                run(repo, "git", "log", "--format=%s", cliTag + "..HEAD");
                cli[i] = System.nanoTime() - start;
            }
            System.out.printf("answer: conveyor %s (previous %s), git describe %s%n", answer.version(),
                    answer.previousVersion(), cliTag);
            report("conveyor cold (new mirror: clone + resolve)", cold);
            report("conveyor warm (fetch + resolve)", warm);
            report("git CLI describe + log", cli);
            System.out.printf("warm / git CLI (median): %.2fx%n", (double) median(warm) / median(cli));
        }
    }

    private static VersionService service(GitAccess access, Path mirrors) {
        return new VersionService(new PushRace(new RepoMirrors(mirrors, access), Backoff.none()),
                new TagPublisher(access), "v", SemVer.of(0, 1, 0), "Bench", "bench@example.com", Clock.systemUTC());
    }

    /** A linear history with a version tag every {@value #TAG_EVERY} commits, written with git fast-import. */
    private static void generate(Path repo) throws Exception {
        run(repo.getParent(), "git", "init", "--bare", "-q", "-b", "main", repo.toString());
        Process importer = new ProcessBuilder("git", "fast-import", "--quiet").directory(repo.toFile())
                .redirectErrorStream(true).start();
        try (OutputStream out = importer.getOutputStream()) {
            StringBuilder s = new StringBuilder();
            long time = 1_700_000_000L;
            for (int i = 1; i <= COMMITS; i++) {
                String subject = i % 7 == 0 ? "feat: feature " + i : "fix: change " + i;
                String content = "line " + i + "\n";
                s.append("commit refs/heads/main\nmark :").append(i).append('\n')
                        .append("committer Dev <dev@example.com> ").append(time + i).append(" +0000\n")
                        .append("data ").append(subject.getBytes(StandardCharsets.UTF_8).length).append('\n')
                        .append(subject)
                        .append('\n');
                if (i > 1) {
                    s.append("from :").append(i - 1).append('\n');
                }
                s.append("M 100644 inline src/file").append(i % 50).append(".txt\n")
                        .append("data ").append(content.length()).append('\n').append(content).append('\n');
                if (i % TAG_EVERY == 0) {
                    int n = i / TAG_EVERY;
                    s.append("reset refs/tags/v").append(n / 100).append('.').append(n / 10 % 10).append('.')
                            .append(n % 10).append("\nfrom :").append(i).append("\n\n");
                }
                if (s.length() > 1 << 20) {
                    out.write(s.toString().getBytes(StandardCharsets.UTF_8));
                    s.setLength(0);
                }
            }
            s.append("commit refs/heads/main\ncommitter Dev <dev@example.com> ").append(time + COMMITS + 1)
                    .append(" +0000\ndata 13\nfeat: latest\nfrom :").append(COMMITS).append('\n')
                    .append("M 100644 inline src/new.txt\ndata 4\nnew\n\n");
            out.write(s.toString().getBytes(StandardCharsets.UTF_8));
        }
        if (!importer.waitFor(5, TimeUnit.MINUTES) || importer.exitValue() != 0) {
            throw new IllegalStateException("git fast-import failed: "
                    + new String(importer.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        }
        run(repo, "git", "gc", "-q");
    }

    private static String run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.getInputStream().transferTo(out);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static void report(String name, long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        System.out.printf("%-45s median %7.1f ms   p90 %7.1f ms   (n=%d)%n", name, sorted[sorted.length / 2] / 1e6,
                sorted[(int) Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.9) - 1)] / 1e6, sorted.length);
    }

    private static long median(long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
