package dev.conveyor.local;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Start-up of each service alone, side by side: JDK 17 (the launcher's JVM), JDK 17 with the dynamic CDS archive the
 * local stack trains, JDK 25, and JDK 25 with the AOT cache it trains ({@link ServiceJvm}), on one machine state,
 * alternating the variants in every round. {@code -Dconveyor.bench.variants=JDK 17,JDK 17+CDS} keeps only those named.
 *
 * <ol>
 * <li>Training, for each variant with a cache: the stack up on that JDK (every service a training run), one CD run and
 * one CI run of the sample app through the whole pipeline, then every service stopped with {@code SIGTERM} (the JVM
 * writes its cache as it exits; the bench waits as long as {@code down} waits for a training service).
 * </li>
 * <li>Rounds: with the broker, registry and stack host still up, each service is started alone, exactly as
 * {@code up} starts it (same command line, configuration and working directory), in each variant — the order of the
 * variants rotating from round to round —, timed from the process start to the first 200 of
 * {@code GET /q/health/ready} (polled every 10 ms), its resident memory ({@code VmRSS}) read at that moment and again
 * 2 s later, then stopped.</li>
 * </ol>
 * Prints every sample with the 1-minute load average, then the medians side by side.
 *
 * <pre>
 * ./mvnw -B -q package -DskipTests -pl deploy/local -am
 * bench/run deploy/local dev.conveyor.local.StartupBench [rounds, default 5] [services, default all, comma-separated]
 *     [JVM options replacing the stack's, e.g. "-Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss256k"]
 * </pre>
 *
 * {@code CONVEYOR_JAVA} names the JDK 25 (default {@code /usr/lib/jvm/temurin-25-jdk-amd64}). With
 * {@code -Dconveyor.bench.baseline=<dir>} (a directory holding another build's {@code <module>/target/quarkus-app}),
 * both builds' caches are trained and the variants are JDK 17 and JDK 25 + AOT on each build ({@code base}: the
 * other one), for comparing two builds on one machine state (deploy/local/README.md).
 */
public final class StartupBench {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    record Sample(String service, String variant, double readySeconds, double quarkusSeconds, long rssMiB,
            long rssLaterMiB, String load) {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        List<String> services = args.length > 1 && !args[1].isBlank() && !args[1].equals("all")
                ? List.of(args[1].split(","))
                : ServiceSpec.ALL.stream().map(ServiceSpec::name).toList();
        List<String> options = args.length > 2
                ? List.of(args[2].trim().split("\\s+"))
                : LocalStack.SERVICE_JVM_OPTIONS;
        Path project = Path.of(System.getProperty("conveyor.project.dir", ".")).toAbsolutePath().normalize();
        Path target = project.resolve("deploy/local/target");
        String classpath = target.resolve("classes") + ":" + Files.readString(target.resolve("classpath.txt"))
                .trim();
        String jdk25Home = Optional.ofNullable(System.getenv("CONVEYOR_JAVA")).filter(s -> !s.isBlank()).orElse(
                "/usr/lib/jvm/temurin-25-jdk-amd64");
        Path data = Files.createTempDirectory("conveyor-startup-bench");
        // Another build of the services to compare with this one (e.g. a fast-jar copy), each variant on both.
        Optional<Path> baseline = Optional.ofNullable(System.getProperty("conveyor.bench.baseline")).filter(
                s -> !s.isBlank()).map(Path::of);
        Path aot = data.resolve("aot");
        Path cds = data.resolve("cds");
        Path baselineAot = data.resolve("aot-baseline");
        ServiceJvm jdk25aot = ServiceJvm.of(Path.of(jdk25Home), true);
        Map<String, Variant> variants = new LinkedHashMap<>();
        String jdk = "JDK " + Runtime.version().feature();
        variants.put(jdk, new Variant(ServiceJvm.current(false), project, aot));
        if (baseline.isEmpty()) {
            // Its own directory: a training start deletes the service's other caches in its directory.
            variants.put(jdk + "+CDS", new Variant(ServiceJvm.current(true), project, cds));
            variants.put("JDK 25", new Variant(ServiceJvm.of(Path.of(jdk25Home), false), project, aot));
        } else {
            variants.put("JDK " + Runtime.version().feature() + " base", new Variant(ServiceJvm.current(false),
                    baseline.get(), baselineAot));
        }
        variants.put("JDK 25+AOT", new Variant(jdk25aot, project, aot));
        baseline.ifPresent(b -> variants.put("JDK 25+AOT base", new Variant(jdk25aot, b, baselineAot)));
        String only = System.getProperty("conveyor.bench.variants", "");
        if (!only.isBlank()) {
            variants.keySet().retainAll(List.of(only.split("\\s*,\\s*")));
        }
        System.out.println("variants: " + String.join(", ", variants.keySet()));
        System.out.println("JVM options: " + String.join(" ", options));
        baseline.ifPresent(b -> System.out.println("baseline (\"base\" variants): the services built in " + b));

        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        LocalStack stack = new LocalStack(project, data, classpath, System.out).withServiceJvm(jdk25aot)
                .withServiceJvmOptions(options).withServiceBuilds(project, aot);
        List<Sample> samples = new ArrayList<>();
        // Free ports for the services, not their preferred 8080…: another stack on this machine may take those between
        // the choice and the start (then a probe answers for the other stack's service).
        Map<String, String> ports = new LinkedHashMap<>();
        ServiceSpec.ALL.forEach(s -> ports.put(s.name(), Integer.toString(dev.conveyor.testkit.Ports.free())));
        if (dev.conveyor.testkit.Binaries.find("docker-registry").isPresent()) {
            ports.put(LocalStack.REGISTRY, Integer.toString(dev.conveyor.testkit.Ports.free()));
        }
        stack.layout().writePorts(ports);
        try {
            if (variants.containsKey("JDK 25+AOT")) {
                train(stack, services, quiet, 2);
            }
            if (baseline.isPresent()) {
                train(stack.withServiceBuilds(baseline.get(), baselineAot), services, quiet, 4);
                stack.withServiceBuilds(project, aot);
            }
            if (variants.containsKey(jdk + "+CDS")) {
                train(stack.withServiceJvm(ServiceJvm.current(true)).withServiceBuilds(project, cds), services, quiet,
                        6);
            }
            for (Path dir : List.of(aot, cds, baselineAot)) {
                if (Files.isDirectory(dir)) {
                    try (var files = Files.list(dir)) {
                        files.sorted().forEach(f -> System.out.printf("  %-60s %5d MiB%n", data.relativize(f),
                                size(f) / 1024 / 1024));
                    }
                }
            }

            List<String> names = new ArrayList<>(variants.keySet());
            for (int round = 0; round < rounds; round++) {
                for (String service : services) {
                    for (int v = 0; v < names.size(); v++) {
                        String variant = names.get((v + round) % names.size());
                        Variant v2 = variants.get(variant);
                        Sample s = startOnce(stack.withServiceJvm(v2.jvm()).withServiceBuilds(v2.project(), v2.aot()),
                                service, variant);
                        samples.add(s);
                        System.out.printf("round %d  %-18s %-11s ready %6.2f s  RSS %4d MiB (%4d MiB 2 s later)  "
                                + "load %s%n", round + 1, service, variant, s.readySeconds(), s.rssMiB(),
                                s
                                        .rssLaterMiB(),
                                s.load());
                    }
                }
            }
            System.out.printf("%nmedians of %d rounds (ready s (Quarkus' own started-in s) / RSS MiB at ready / 2 s "
                    + "later):%n", rounds);
            System.out.printf("%-18s", "service");
            names.forEach(n -> System.out.printf(" | %-29s", n));
            System.out.println();
            for (String service : services) {
                System.out.printf("%-18s", service);
                for (String n : names) {
                    List<Sample> of = samples.stream().filter(s -> s.service().equals(service) && s.variant().equals(
                            n)).toList();
                    System.out.printf(" | %5.2f s (%5.2f) %4d %4d MiB", median(of.stream().map(
                            Sample::readySeconds).toList()), median(of.stream().map(Sample::quarkusSeconds).toList()),
                            (long) median(of.stream().map(s -> (double) s.rssMiB()).toList()), (long) median(of
                                    .stream().map(s -> (double) s.rssLaterMiB()).toList()));
                }
                System.out.println();
            }
            List<Double> loads = samples.stream().map(Sample::load).filter(l -> !l.equals("?")).map(
                    Double::parseDouble).sorted().toList();
            System.out.printf("load average (1 min) at the starts: min %.2f, median %.2f, max %.2f%n", loads.get(0),
                    median(loads), loads.get(loads.size() - 1));
        } finally {
            stack.down();
            Conveyor.deleteTree(data);
        }
    }

    /** What the AOT variants run on: the JVM, the services' build and where their caches are. */
    record Variant(ServiceJvm jvm, Path project, Path aot) {
    }

    /**
     * Trains the caches of the stack's current build: the stack up on JDK 25 (every service a training run), one CD
     * and one CI run (sample app changes {@code change} and {@code change + 1}), every service stopped with SIGTERM.
     */
    private static void train(LocalStack stack, List<String> services, PrintStream quiet, int change)
            throws Exception {
        long t = System.nanoTime();
        LocalStack.Running running = stack.up(Optional.empty());
        System.out.printf("training: stack up on JDK %s (every service a training run) in %.1f s, load %s%n",
                stack.serviceJvm().version(), seconds(t), load());
        Demo demo = new Demo(running, stack.layout(), quiet);
        t = System.nanoTime();
        Pipeline.RunEvents cd = demo.cd(change, "feat: release " + change);
        Pipeline.RunEvents ci = demo.pr(change + 1, "feature/SHOP-" + (change + 1) + "-train", change + 1,
                "SHOP-" + (change + 1) + " train");
        System.out.printf("training workload: one CD run (%s) and one CI run (%s) in %.1f s%n", cd.succeeded()
                ? "succeeded"
                : "FAILED", ci.succeeded() ? "succeeded" : "FAILED", seconds(t));
        t = System.nanoTime();
        stopServices(stack);
        System.out.printf("services stopped (SIGTERM), caches written in %.1f s%n", seconds(t));
        // A service that did not exit on SIGTERM (killed after the wait) wrote no cache: train it on its start-up
        // alone (start, ready, SIGTERM at once), and say so.
        for (String service : services) {
            LocalStack.ServiceLaunch launch = stack.serviceLaunch(service);
            if (ServiceJvm.training(launch.command())) {
                t = System.nanoTime();
                Process p = stack.startServiceProcess(launch);
                awaitReady(p, service, "training", launch, "http://127.0.0.1:" + port(stack, service)
                        + "/q/health/ready");
                p.destroy();
                boolean exited = p.waitFor(LocalStack.TRAINING_EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                if (!exited) {
                    p.destroyForcibly().waitFor();
                }
                System.out.printf("  %-18s did not exit on SIGTERM after the workload: trained on its start-up "
                        + "alone instead (%s, %.1f s)%n", service, exited ? "cache written" : "FAILED", seconds(t));
            }
        }
    }

    /** Stops every service of the stack with SIGTERM and waits until each has exited (writing its cache). */
    private static void stopServices(LocalStack stack) {
        Map<String, String> procs = stack.layout().processes();
        List<ProcessHandle> stopping = new ArrayList<>();
        for (ServiceSpec s : ServiceSpec.ALL) {
            Optional.ofNullable(procs.get(s.name() + ".pid")).flatMap(p -> ProcessHandle.of(Long.parseLong(p)))
                    .ifPresent(h -> {
                        h.destroy();
                        stopping.add(h);
                    });
        }
        long deadline = System.nanoTime() + LocalStack.TRAINING_EXIT_TIMEOUT.toNanos();
        for (ProcessHandle h : stopping) {
            try {
                h.onExit().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (Exception e) {
                h.destroyForcibly();
            }
        }
    }

    private static Sample startOnce(LocalStack stack, String service, String variant) throws Exception {
        LocalStack.ServiceLaunch launch = stack.serviceLaunch(service);
        if ((variant.contains("AOT") || variant.contains("CDS")) && !ServiceJvm.usesCache(launch.command())) {
            throw new IllegalStateException(service + " has no cache (its training failed): " + launch.command());
        }
        String url = "http://127.0.0.1:" + port(stack, service) + "/q/health/ready";
        String load = load();
        long t = System.nanoTime();
        Process p = stack.startServiceProcess(launch);
        try {
            awaitReady(p, service, variant, launch, url);
            double ready = seconds(t);
            long rss = LocalStack.rssMiB(p.pid()).orElse(-1L);
            double quarkus = LocalStack.quarkusStart(launch.log()).map(q -> Double.parseDouble(q.replace("s", "")))
                    .orElse(Double.NaN);
            Thread.sleep(2000);
            long later = LocalStack.rssMiB(p.pid()).orElse(-1L);
            return new Sample(service, variant, ready, quarkus, rss, later, load);
        } finally {
            p.destroy();
            // A service that loaded helm's Go library ignores SIGTERM (see the report): 10 s, then SIGKILL.
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
    }

    private static int port(LocalStack stack, String service) {
        return Integer.parseInt(stack.layout().ports().get(service).trim());
    }

    private static void awaitReady(Process p, String service, String variant, LocalStack.ServiceLaunch launch,
            String url) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (!ready(url)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException(service + " (" + variant + ") not ready; log: " + LocalStack.tail(launch
                        .log(), 20));
            }
            Thread.sleep(10);
        }
    }

    private static boolean ready(String url) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).GET().build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The 1-minute load average ({@code /proc/loadavg}). */
    static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "?";
        }
    }

    private static long size(Path f) {
        try {
            return Files.size(f);
        } catch (IOException e) {
            return -1;
        }
    }

    static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
