package dev.conveyor.manifests.bench;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import dev.conveyor.manifests.cli.Cli;
import dev.conveyor.manifests.domain.ManifestParser;
import dev.conveyor.manifests.domain.Problem;
import dev.conveyor.manifests.domain.ValidationSettings;
import dev.conveyor.manifests.domain.Validator;
import dev.conveyor.manifests.domain.schema.BuiltinSchemas;
import dev.conveyor.manifests.domain.schema.SchemaRegistry;

/**
 * {@code conveyor validate} as people run it, a process per call with the launcher's JVM flags:
 * <ul>
 * <li>objects/s on one file of 100,000 objects (Deployment, Service, ConfigMap, ServiceAccount in turn), beside the same
 * parse and validation in this JVM, warmed up (what the process would reach without start-up and JIT warm-up);</li>
 * <li>start-to-exit time on a 10-object file, beside the same JVM starting and exiting with nothing to do.</li>
 * </ul>
 * Run: {@code bench/run manifest-renderer dev.conveyor.manifests.bench.CliBenchmark} (after a build; the CLI's class path
 * is {@code manifest-renderer/target/classpath.txt}).
 */
public final class CliBenchmark {

    static final int BIG = 100_000;
    static final int SMALL = 10;
    static final List<String> JVM_FLAGS = List.of("-XX:+UseParallelGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto");

    public static void main(String[] args) throws Exception {
        int bigRuns = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int smallRuns = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        Path classes = Path.of(Cli.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path testClasses = Path.of(CliBenchmark.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        String classpath = classes + File.pathSeparator + Files.readString(classes.getParent().resolve(
                "classpath.txt")).strip();
        Path dir = Files.createTempDirectory("cli-bench");
        Path big = dir.resolve("objects-100000.yaml");
        Path small = dir.resolve("objects-10.yaml");
        Files.writeString(big, corpus(BIG));
        Files.writeString(small, corpus(SMALL));
        System.out.printf("load average at start: %s%n", Files.readString(Path.of("/proc/loadavg")).strip());
        System.out.printf("input: %d objects, %.1f MB; JVM flags %s%n", BIG, Files.size(big) / 1e6, JVM_FLAGS);

        List<String> validateBig = command(classpath, Cli.class.getName(), "validate", "-summary", big.toString());
        double[] cli = new double[bigRuns];
        for (int i = 0; i < bigRuns; i++) {
            cli[i] = run(validateBig, "Summary: " + BIG + " resources found in 1 file - Valid: " + BIG);
        }
        double[] inProcess = new double[bigRuns + 2];
        String text = Files.readString(big);
        for (int i = 0; i < inProcess.length; i++) {
            long start = System.nanoTime();
            var parsed = new ManifestParser(new ManifestParser.Limits(Integer.MAX_VALUE - 16, 100, 200_000, 64))
                    .parse(text, "bench");
            Validator validator = new Validator(new SchemaRegistry(BuiltinSchemas.cached("latest"), List.of()),
                    new ValidationSettings(false, ValidationSettings.MissingSchema.ERROR, true));
            List<Problem> errors = new ArrayList<>();
            parsed.objects().forEach(o -> validator.validate(o, errors, new ArrayList<>()));
            if (parsed.objects().size() != BIG || !errors.isEmpty()) {
                throw new IllegalStateException("in-process validation found " + errors.size() + " errors");
            }
            inProcess[i] = (System.nanoTime() - start) / 1e9;
        }
        double[] warm = Arrays.copyOfRange(inProcess, 2, inProcess.length); // the first two rounds warm the JIT up

        List<String> validateSmall = command(classpath, Cli.class.getName(), "validate", "-summary", small
                .toString());
        List<String> noop = command(classpath + File.pathSeparator + testClasses, Noop.class.getName());
        double[] smallCli = new double[smallRuns];
        double[] bare = new double[smallRuns];
        for (int i = 0; i < smallRuns; i++) {
            smallCli[i] = run(validateSmall, "Summary: " + SMALL + " resources found in 1 file - Valid: " + SMALL);
            bare[i] = run(noop, "");
        }
        System.out.printf("load average at end: %s%n", Files.readString(Path.of("/proc/loadavg")).strip());
        System.out.println();
        System.out.println("| measure | median | best | runs |");
        System.out.println("|---|---|---|---|");
        row("`conveyor validate` 100,000 objects, objects/s (process, start to exit)", BIG / median(cli), BIG / min(
                cli), bigRuns, "%,.0f");
        row("same parse + validate in a warmed JVM, objects/s", BIG / median(warm), BIG / min(warm), warm.length,
                "%,.0f");
        row("`conveyor validate` 10 objects, start to exit, ms", median(smallCli) * 1000, min(smallCli) * 1000,
                smallRuns, "%,.0f");
        row("bare JVM, same flags and class path, start to exit, ms", median(bare) * 1000, min(bare) * 1000,
                smallRuns, "%,.0f");
        for (Path p : List.of(big, small, dir)) {
            Files.deleteIfExists(p);
        }
    }

    private static void row(String name, double median, double best, int runs, String format) {
        System.out.printf(Locale.ROOT, "| %s | " + format + " | " + format + " | %d |%n", name, median, best, runs);
    }

    private static List<String> command(String classpath, String main, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(JVM_FLAGS);
        command.add("-cp");
        command.add(classpath);
        command.add(main);
        command.addAll(List.of(args));
        return command;
    }

    /** Seconds from start to exit; checks the output starts as expected. */
    private static double run(List<String> command, String expected) throws Exception {
        long start = System.nanoTime();
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        int exit = process.waitFor();
        double seconds = (System.nanoTime() - start) / 1e9;
        if (exit != 0 || !out.startsWith(expected)) {
            throw new IllegalStateException("exit " + exit + ": " + out);
        }
        return seconds;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static double min(double[] values) {
        return Arrays.stream(values).min().orElseThrow();
    }

    /** {@code count} valid objects, four kinds in turn, as one multi-document stream. */
    static String corpus(int count) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < count; i++) {
            if (i > 0) {
                out.append("---\n");
            }
            switch (i % 4) {
                case 0 -> out.append("""
                        apiVersion: apps/v1
                        kind: Deployment
                        metadata:
                          name: web-%1$d
                          namespace: bench
                          labels: {app: web-%1$d}
                        spec:
                          replicas: 2
                          selector:
                            matchLabels: {app: web-%1$d}
                          template:
                            metadata:
                              labels: {app: web-%1$d}
                            spec:
                              containers:
                                - name: web
                                  image: nginx:1.27
                                  ports:
                                    - containerPort: 8080
                                  resources:
                                    limits: {cpu: 500m, memory: 128Mi}
                        """.formatted(i));
                case 1 -> out.append("""
                        apiVersion: v1
                        kind: Service
                        metadata:
                          name: web-%1$d
                          namespace: bench
                        spec:
                          selector: {app: web-%1$d}
                          ports:
                            - port: 80
                              targetPort: 8080
                        """.formatted(i));
                case 2 -> out.append("""
                        apiVersion: v1
                        kind: ConfigMap
                        metadata:
                          name: settings-%1$d
                          namespace: bench
                        data:
                          mode: fast
                          level: "3"
                        """.formatted(i));
                default -> out.append("""
                        apiVersion: v1
                        kind: ServiceAccount
                        metadata:
                          name: sa-%1$d
                          namespace: bench
                        """.formatted(i));
            }
        }
        return out.toString();
    }
}
