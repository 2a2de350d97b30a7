package dev.conveyor.imagebuilder.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.conveyor.events.v1.Artifact;
import dev.conveyor.events.v1.BumpReason;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.imagebuilder.service.ImageBuildService;
import dev.conveyor.imagebuilder.support.Artifacts;
import dev.conveyor.imagebuilder.support.TestServices;
import dev.conveyor.testkit.Binaries;
import dev.conveyor.testkit.TempDirs;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.registry.BaseImages;
import dev.conveyor.testkit.registry.OciRegistry;

/**
 * Build and push of a ~50 MB fat jar with 40 dependency jars to a real registry on loopback: cold (empty target
 * repository, empty Jib cache), warm (a new app version into the same repository: base and dependency layers already
 * there), replay (the same version again: nothing pushed), and {@code skopeo copy} of the same image between two
 * repositories of the same registry as the transfer floor. Each round runs the new path (Jib builds, {@code RegistryApi}
 * pushes) and the old one (Jib pushes) in alternating order, with skopeo after the first. Prints one line per run with
 * the load average and the phases, and the medians.
 *
 * <pre>
 * ./mvnw -B -pl image-builder -am test-compile exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=dev.conveyor.imagebuilder.bench.PushBenchmark [-Dexec.args=3]
 * </pre>
 */
public final class PushBenchmark {

    static final int DEPENDENCIES = 40;
    static final int DEPENDENCY_BYTES = 1_200_000;
    static final int CLASSES = 200;

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        Path root = TempDirs.create("image-bench");
        try (OciRegistry registry = OciRegistry.start();
                OciRegistry other = OciRegistry.start();
                GitRepos repos = new GitRepos()) {
            String base = BaseImages.seed(registry);
            BareRepo repo = repos.createBare("bench");
            String commit = repo.writer().file("README.md", "bench").message("feat: bench").commit();
            Path firstJar = jar(root, 0);
            System.out.println("load average at start: " + loadAverage());
            System.out.printf("artifact: %.1f MB jar, %d dependency jars of %.1f MB, %d classes%n",
                    Files.size(firstJar) / 1e6, DEPENDENCIES, DEPENDENCY_BYTES / 1e6, CLASSES);

            // Each round runs both paths, in alternating order, and skopeo between them: the old path (Jib pushes)
            // and the new one (Jib builds into a pipe, RegistryApi pushes).
            Map<String, Map<String, List<Long>>> figures = new LinkedHashMap<>();
            List<Long> copy = new ArrayList<>();
            List<Long> copyAcross = new ArrayList<>();
            for (int round = 1; round <= rounds; round++) {
                List<String> order = round % 2 == 1 ? List.of("new", "old") : List.of("old", "new");
                for (String path : order) {
                    Map<String, List<Long>> times = figures.computeIfAbsent(path, k -> new LinkedHashMap<>());
                    String namespace = "bench" + round + path;
                    int seed = round * 10 + (path.equals("new") ? 0 : 5);
                    ImageBuildService service = TestServices.under(root).registry(registry.host()).base(base)
                            .namespace(namespace).caches(root.resolve("cache-" + round + path)).maxBytes(1L << 30)
                            .jibPush(path.equals("old")).build();
                    VersionResolved v1 = event(repo, commit, "1.0." + seed, jar(root, seed));
                    String load = loadAverage();
                    long start = System.nanoTime();
                    ImageBuildService.Result first = service.build(v1, null);
                    times.computeIfAbsent("cold", k -> new ArrayList<>()).add(System.nanoTime() - start);

                    VersionResolved v2 = event(repo, commit, "1.0." + (seed + 1), jar(root, seed + 1));
                    start = System.nanoTime();
                    ImageBuildService.Result second = service.build(v2, null);
                    times.computeIfAbsent("warm", k -> new ArrayList<>()).add(System.nanoTime() - start);

                    start = System.nanoTime();
                    ImageBuildService.Result again = service.build(v2, null);
                    times.computeIfAbsent("replay", k -> new ArrayList<>()).add(System.nanoTime() - start);
                    if (!first.pushed() || !second.pushed() || again.pushed()) {
                        throw new IllegalStateException("unexpected push outcomes");
                    }
                    System.out.printf("round %d %s (load %s): cold %d ms, warm %d ms, replay %d ms; warm phases %s; "
                            + "replay phases %s%n", round, path, load, ms(last(times.get("cold"))),
                            ms(last(times.get(
                                    "warm"))),
                            ms(last(times.get("replay"))), second.phaseMillis(), again
                                    .phaseMillis());
                    if (path.equals(order.get(0))) {
                        String source = registry.host() + "/" + namespace + "/bench:" + v1.version();
                        load = loadAverage();
                        start = System.nanoTime();
                        String same = skopeoCopy(root, source, registry.host() + "/copy" + round + "/bench:" + v1
                                .version());
                        copy.add(System.nanoTime() - start);
                        start = System.nanoTime();
                        skopeoCopy(root, source, other.host() + "/copy" + round + "/bench:" + v1.version());
                        copyAcross.add(System.nanoTime() - start);
                        System.out.printf("round %d skopeo (load %s): same registry %d ms (%s), to another registry "
                                + "%d ms (image %.1f MB)%n", round, load, ms(last(copy)), same, ms(last(copyAcross)),
                                first.event().sizeBytes() / 1e6);
                    }
                }
            }
            for (var entry : figures.entrySet()) {
                Map<String, List<Long>> times = entry.getValue();
                System.out.printf("median of %d, %s path: cold %d ms | warm %d ms | replay (no push) %d ms | warm / "
                        + "skopeo same registry %.2f%n", rounds, entry.getKey(), ms(median(times.get("cold"))),
                        ms(
                                median(times.get("warm"))),
                        ms(median(times.get("replay"))), (double) median(times
                                .get("warm")) / median(copy));
            }
            System.out.printf("median of %d: skopeo copy same registry %d ms | skopeo copy to another registry %d ms%n",
                    rounds, ms(median(copy)), ms(median(copyAcross)));
            System.out.println("load average at end: " + loadAverage());
        } finally {
            TempDirs.deleteQuietly(root);
        }
    }

    private static Path jar(Path root, long seed) {
        return Artifacts.fatJar(root.resolve("jars/app-" + seed + ".jar"), "com.example.Main", CLASSES, DEPENDENCIES,
                DEPENDENCY_BYTES, seed);
    }

    private static VersionResolved event(BareRepo repo, String commit, String version, Path jar) {
        return new VersionResolved(PipelineRun.start("bench", repo.fileUrl(), commit, "main", null, Flow.CD),
                Instant.now(), null, version, "v" + version, true, null, BumpReason.PATCH, List.of(),
                new Artifact(jar.toUri().toString(), Artifacts.sha256(jar), null, "jar"));
    }

    /** Copies and returns how skopeo reported the blobs, e.g. {@code 3 blobs: 3 skipped (already exist/mounted)}. */
    private static String skopeoCopy(Path root, String from, String to) throws IOException, InterruptedException {
        Path home = Files.createTempDirectory(root, "skopeo-home");
        ProcessBuilder builder = new ProcessBuilder(Binaries.require("skopeo", "skopeo").toString(), "copy",
                "--src-tls-verify=false", "--dest-tls-verify=false", "docker://" + from, "docker://" + to)
                .redirectErrorStream(true).redirectOutput(root.resolve("skopeo.log").toFile());
        builder.environment().put("HOME", home.toString());
        builder.environment().put("REGISTRY_AUTH_FILE", home.resolve("auth.json").toString());
        Process process = builder.start();
        if (!process.waitFor(5, TimeUnit.MINUTES) || process.exitValue() != 0) {
            throw new IllegalStateException("skopeo copy failed: " + Files.readString(root.resolve("skopeo.log")));
        }
        List<String> blobs = Files.readAllLines(root.resolve("skopeo.log")).stream()
                .filter(l -> l.startsWith("Copying blob")).toList();
        long skipped = blobs.stream().filter(l -> l.contains("skipped")).count();
        return blobs.size() + " blobs, " + skipped + " skipped by skopeo";
    }

    /** The 1, 5 and 15 minute load averages, as {@code uptime} prints them. */
    private static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return fields[0] + " " + fields[1] + " " + fields[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static long last(List<Long> values) {
        return values.get(values.size() - 1);
    }

    private static long median(List<Long> values) {
        List<Long> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }
}
