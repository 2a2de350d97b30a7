package dev.conveyor.local;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.ChartPublished;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.ReleaseDegraded;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.events.v1.StageFailed;
import dev.conveyor.events.v1.VersionResolved;

/**
 * The whole pipeline on the local stack with many apps: {@code apps} distinct apps (each its own repository, chart and
 * GitOps release, spread over {@code gitopsRepos} GitOps repositories: {@link AppFleet}), the event topics with
 * {@code partitions} partitions; after the stack is up, one cold CD run, then rounds of 1, 10, 100 … concurrent CD
 * runs, each a commit and a Jenkins hook of a different app. Per round: runs per minute (wall time from the first hook
 * to the last {@code RepoSynced}), hook → {@code RepoSynced} p50/p95/max, each stage's time from the events (input
 * event → output event, queueing included) and its own processing time ({@code conveyor_stage_duration_seconds} from
 * the services' {@code /q/metrics}), CPU seconds and resident memory per process ({@code /proc}), load average.
 *
 * <pre>
 * ./mvnw -B -q package -DskipTests -pl deploy/local -am
 * bench/run deploy/local dev.conveyor.local.PipelineBench [apps, default 100] [rounds, default 1,10,100] \
 *     [processes per service, default 1] [GitOps repositories, default 10] [partitions per topic, default 6]
 * </pre>
 *
 * With {@code CONVEYOR_JAVA} naming a JDK 25 and {@code -Dconveyor.bench.aot-dir=<dir>} (with {@code bench/run}: in
 * {@code BENCH_JAVA_OPTS}), the services' AOT caches are kept in {@code <dir>}: the first run trains them, the
 * next starts on them.
 */
public final class PipelineBench {

    /** A stage as the events show it: the event it consumes and the one it emits. */
    private record Stage(String name, Class<? extends ConveyorEvent> in, Class<? extends ConveyorEvent> out) {
    }

    private static final List<Stage> STAGES = List.of(new Stage("gateway (hook)", null, BuildSucceeded.class),
            new Stage("versioner", BuildSucceeded.class, VersionResolved.class),
            new Stage("image-builder", VersionResolved.class, ImagePushed.class),
            new Stage("manifest-renderer", ImagePushed.class, ManifestsValidated.class),
            new Stage("promoter: chart", ManifestsValidated.class, ChartPublished.class),
            new Stage("promoter: GitOps", ChartPublished.class, ReleasePromoted.class),
            new Stage("flux-sync: sync", ReleasePromoted.class, RepoSynced.class),
            new Stage("flux-sync: health", RepoSynced.class, ReleaseHealthy.class));

    private static final Duration ROUND_TIMEOUT = Duration.ofSeconds(Long.getLong("bench.round-timeout", 900));

    /** One run sent: its app, when its hook was sent, its run id. */
    private record Sent(String app, Instant at, String runId, int attempt) {
    }

    public static void main(String[] args) throws Exception {
        int apps = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        List<Integer> rounds = Arrays.stream((args.length > 1 ? args[1] : "1,10,100").split(",")).map(
                String::trim).map(Integer::parseInt).toList();
        int replicas = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        int gitopsRepos = args.length > 3 ? Integer.parseInt(args[3]) : 10;
        int partitions = args.length > 4 ? Integer.parseInt(args[4]) : 6;
        Path project = Path.of(System.getProperty("conveyor.project.dir", ".")).toAbsolutePath().normalize();
        Path target = project.resolve("deploy/local/target");
        String classpath = target.resolve("classes") + ":" + Files.readString(target.resolve("classpath.txt"))
                .trim();
        Path data = Files.createTempDirectory("conveyor-bench");
        LocalStack stack = new LocalStack(project, data, classpath, System.out).withReplicas(replicas);
        // -Dconveyor.bench.aot-dir=<dir>: the services' AOT caches (JDK 25, CONVEYOR_JAVA) outlive this run's data, so
        // a second run starts on the caches the first one trained: its cold run is the first run after a cached start.
        String aotDir = System.getProperty("conveyor.bench.aot-dir", "");
        if (!aotDir.isBlank()) {
            stack.withServiceBuilds(project, Path.of(aotDir).toAbsolutePath());
        }
        System.out.printf("PipelineBench: %d apps over %d GitOps repositories, %d partitions per topic, %d process(es)"
                + " per service; rounds %s; load average %s%n", apps, gitopsRepos, partitions, replicas, rounds,
                loadAverage());
        long seedBegin = System.nanoTime();
        AppFleet fleet = AppFleet.seed(stack.layout(), apps, gitopsRepos, partitions);
        System.out.printf("seeded %d app repositories and %d GitOps repositories in %.2f s (in-process JGit)%n", apps,
                fleet.gitopsRepos(), seconds(seedBegin));
        long begin = System.nanoTime();
        try {
            LocalStack.Running running = stack.up(Optional.empty());
            System.out.printf("stack up (host + 7 services x %d, in parallel) in %.1f s; load average %s%n", replicas,
                    seconds(begin), loadAverage());
            running.startMillis().forEach((s, ms) -> System.out.printf("  %-20s ready after %5.1f s%n", s, ms
                    / 1000.0));
            // -Dconveyor.bench.wait-warm-up=true: the first run waits for the stages' background warm-ups (their
            // "warm-up done" log line) instead of starting the moment the stack is ready.
            if (Boolean.getBoolean("conveyor.bench.wait-warm-up")) {
                awaitWarmUps(stack.layout(), begin);
            }
            Bench bench = new Bench(stack, running, fleet);
            bench.first();
            int offset = 1;
            List<String> table = new ArrayList<>();
            for (int k : rounds) {
                List<Integer> members = new ArrayList<>();
                for (int i = 0; i < k; i++) {
                    members.add((offset + i) % apps);
                }
                offset += k;
                table.add(bench.round(members));
            }
            System.out.println();
            System.out.println("| concurrent runs | completed | wall (first hook → last RepoSynced) | runs/min |"
                    + " hook → RepoSynced p50 / p95 / max | load average (start → end) |");
            System.out.println("|---:|---:|---:|---:|---|---|");
            table.forEach(System.out::println);
            System.out.println("resident memory after the runs:");
            stack.status().forEach(l -> System.out.println("  " + l));
        } finally {
            long t = System.nanoTime();
            stack.down();
            System.out.printf("down in %.1f s%n", seconds(t));
            Conveyor.deleteTree(data);
        }
    }

    /** The services with a warm-up (stage-support's {@code WarmUpStarter} logs "warm-up done" when it ends). */
    private static final List<String> WARMED = List.of("versioner", "image-builder", "manifest-renderer",
            "promoter");

    /** Waits (at most 120 s) until every warmed service's log says its warm-up is done; prints when. */
    private static void awaitWarmUps(StackLayout layout, long begin) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        for (String service : WARMED) {
            Path log = layout.log(service);
            while (!(Files.exists(log) && Files.readString(log).contains("warm-up done"))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(service + ": no \"warm-up done\" in " + log + " within 120 s");
                }
                Thread.sleep(100);
            }
        }
        System.out.printf("warm-ups done %.1f s after the stack's start; load average %s%n", seconds(begin),
                loadAverage());
    }

    /** The stack under test and what the rounds share. */
    private static final class Bench {
        private final LocalStack stack;
        private final LocalStack.Running running;
        private final AppFleet fleet;
        private final Pipeline pipeline;
        private final Map<Integer, Integer> changes = new TreeMap<>();
        private int build = 1;

        Bench(LocalStack stack, LocalStack.Running running, AppFleet fleet) {
            this.stack = stack;
            this.running = running;
            this.fleet = fleet;
            this.pipeline = new Pipeline(running);
        }

        /** The first CD run after the start: app 0, cold JITs, first image and chart of the stack. */
        void first() throws Exception {
            Instant since = Instant.now();
            try (RunCollector collector = new RunCollector(running.stack().get(StackLayout.KAFKA), since.minusSeconds(
                    10))) {
                List<Sent> sent = send(List.of(0), collector);
                await(sent, collector);
                Sent s = sent.get(0);
                List<RunCollector.Seen> events = collector.events(s.runId(), s.attempt());
                System.out.printf("%nfirst CD run after start (app-000; cold JITs, first image push, first chart):"
                        + " hook -> RepoSynced %.2f s; %s; load average %s%n", toSynced(s, events),
                        stageLine(s,
                                events),
                        loadAverage());
            }
        }

        /** A round of concurrent runs, one per app in {@code members}; returns its table row. */
        String round(List<Integer> members) throws Exception {
            int k = members.size();
            System.out.printf("%n== %d concurrent CD runs (%d distinct apps) ==%n", k, members.stream().distinct()
                    .count());
            String loadStart = loadAverage();
            Map<String, double[]> cpuBefore = cpu();
            Map<String, double[]> stageBefore = stageMetrics();
            Instant since = Instant.now();
            List<Sent> sent;
            List<Sent> done;
            double wall;
            try (RunCollector collector = new RunCollector(running.stack().get(StackLayout.KAFKA), since.minusSeconds(
                    10))) {
                sent = send(members, collector);
                done = await(sent, collector);
                Instant first = sent.stream().map(Sent::at).min(Comparator.naturalOrder()).orElseThrow();
                Instant lastSynced = done.stream().map(s -> syncedAt(collector.events(s.runId(), s.attempt())))
                        .filter(java.util.Objects::nonNull).max(Comparator.naturalOrder()).orElse(Instant.now());
                wall = Duration.between(first, lastSynced).toMillis() / 1000.0;
                String loadEnd = loadAverage();
                Map<String, double[]> cpuAfter = cpu();
                Map<String, double[]> stageAfter = stageMetrics();

                List<Double> toSynced = new ArrayList<>();
                int failed = 0;
                for (Sent s : done) {
                    List<RunCollector.Seen> events = collector.events(s.runId(), s.attempt());
                    if (events.stream().anyMatch(e -> e.event() instanceof StageFailed
                            || e.event() instanceof ReleaseDegraded)) {
                        failed++;
                        events.stream().filter(e -> e.event() instanceof StageFailed).forEach(e -> System.out.println(
                                "  FAILED " + s.app() + ": " + e.event()));
                        continue;
                    }
                    toSynced.add(toSynced(s, events));
                }
                int syncs = (int) collector.syncs().stream().filter(r -> r.runIds().stream().anyMatch(id -> sent
                        .stream().anyMatch(s -> s.runId().equals(id)))).count();
                System.out.printf("  completed %d of %d (%d failed) in %.1f s wall (first hook -> last RepoSynced):"
                        + " %.1f runs/min%n", done.size(), k, failed, wall, done.size() * 60.0 / wall);
                System.out.printf("  hook -> RepoSynced p50 %.2f s, p95 %.2f s, max %.2f s; %d RepoSynced events"
                        + " carried the %d runs%n", pct(toSynced, 50), pct(toSynced, 95), pct(toSynced, 100), syncs,
                        done.size());
                System.out.printf("  load average: start %s, end %s%n", loadStart, loadEnd);
                System.out.println("  per stage, input event -> output event (queueing included), p50 / p95 / max;"
                        + " own processing time (conveyor_stage_duration_seconds): mean x count = busy");
                Map<String, double[]> own = diff(stageAfter, stageBefore);
                for (Stage st : STAGES) {
                    List<Double> d = new ArrayList<>();
                    for (Sent s : done) {
                        Double v = stageSeconds(st, s, collector.events(s.runId(), s.attempt()));
                        if (v != null) {
                            d.add(v);
                        }
                    }
                    if (d.isEmpty()) {
                        continue;
                    }
                    System.out.printf("    %-20s %6.2f / %6.2f / %6.2f s%n", st.name(), pct(d, 50), pct(d, 95), pct(d,
                            100));
                }
                own.forEach((stage, v) -> System.out.printf("    own time %-18s mean %.3f s x %d = %.1f s busy%n",
                        stage, v[1] == 0 ? 0 : v[0] / v[1], (long) v[1], v[0]));
                System.out.println("  CPU seconds during the round and resident memory (now / peak) per process:");
                Map<String, double[]> used = diff(cpuAfter, cpuBefore);
                double total = 0;
                for (var e : used.entrySet()) {
                    double[] now = cpuAfter.get(e.getKey());
                    total += e.getValue()[0];
                    System.out.printf("    %-20s %6.1f s CPU  %5.0f / %5.0f MiB%n", e.getKey(), e.getValue()[0],
                            now[1], now[2]);
                }
                System.out.printf("    %-20s %6.1f s CPU over %.1f s wall (%.2f cores busy)%n", "total", total, wall,
                        total / wall);
                return String.format("| %d | %d%s | %.1f s | %.1f | %.2f / %.2f / %.2f s | %s → %s |", k, done.size(),
                        failed > 0 ? " (" + failed + " failed)" : "", wall, done.size() * 60.0 / wall, pct(toSynced,
                                50),
                        pct(toSynced, 95), pct(toSynced, 100), loadStart, loadEnd);
            }
        }

        /** Commits and builds every member's change (not timed), then sends all hooks at once. */
        private List<Sent> send(List<Integer> members, RunCollector collector) throws Exception {
            List<Pipeline.Build> builds = new ArrayList<>();
            String git = running.stack().get(StackLayout.GIT);
            for (int i : members) {
                int n = changes.merge(i, 1, Integer::sum) + 1;
                String commit = fleet.change(i, n, "fix: change " + n + " of " + fleet.app(i));
                builds.add(new Pipeline.Build(git + fleet.appRepo(i), commit, "main", fleet.build(i, n, commit),
                        build++));
            }
            ExecutorService pool = Executors.newFixedThreadPool(members.size());
            try {
                List<Future<Sent>> futures = new ArrayList<>();
                for (int j = 0; j < members.size(); j++) {
                    String app = fleet.app(members.get(j));
                    Pipeline.Build b = builds.get(j);
                    futures.add(pool.submit(() -> {
                        Pipeline.Accepted a = pipeline.hook(app, b, null, null);
                        return new Sent(app, a.sentAt(), a.runId(), a.attempt());
                    }));
                }
                List<Sent> sent = new ArrayList<>();
                for (Future<Sent> f : futures) {
                    sent.add(f.get());
                }
                return sent;
            } finally {
                pool.shutdown();
            }
        }

        /** Waits until every run has ended or the round's time is up; returns the runs that ended. */
        private List<Sent> await(List<Sent> sent, RunCollector collector) throws InterruptedException {
            long deadline = System.nanoTime() + ROUND_TIMEOUT.toNanos();
            long lastReport = System.nanoTime();
            while (System.nanoTime() < deadline) {
                collector.check();
                List<Sent> done = sent.stream().filter(s -> collector.ended(s.runId(), s.attempt())).toList();
                if (done.size() == sent.size()) {
                    return done;
                }
                if (System.nanoTime() - lastReport > 30_000_000_000L) {
                    System.out.printf("  ... %d of %d ended; load average %s%n", done.size(), sent.size(),
                            loadAverage());
                    lastReport = System.nanoTime();
                }
                Thread.sleep(100);
            }
            List<Sent> done = sent.stream().filter(s -> collector.ended(s.runId(), s.attempt())).toList();
            System.out.printf("  OUT OF TIME after %d s: %d of %d ended%n", ROUND_TIMEOUT.toSeconds(), done.size(),
                    sent.size());
            return done;
        }

        /** Each service's {@code conveyor_stage_duration_seconds} sum and count by stage, over its replicas. */
        private Map<String, double[]> stageMetrics() {
            Map<String, double[]> m = new TreeMap<>();
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            for (String service : running.ports().keySet()) {
                try {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(running.serviceUrl(service)
                            + "/q/metrics")).timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers
                                    .ofString());
                    for (String line : r.body().lines().toList()) {
                        boolean sum = line.startsWith("conveyor_stage_duration_seconds_sum{");
                        boolean count = line.startsWith("conveyor_stage_duration_seconds_count{");
                        if (!sum && !count) {
                            continue;
                        }
                        int at = line.indexOf("stage=\"");
                        if (at < 0) {
                            continue;
                        }
                        String stage = line.substring(at + 7, line.indexOf('"', at + 7));
                        double v = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                        m.computeIfAbsent(stage, s -> new double[2])[sum ? 0 : 1] += v;
                    }
                } catch (IOException | RuntimeException e) {
                    // a service without the metric (the gateway) or not answering: left out
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return m;
                }
            }
            return m;
        }

        /** CPU seconds (user + system) and resident memory now and at peak (MiB) of every process of the stack. */
        private Map<String, double[]> cpu() {
            Map<String, double[]> m = new LinkedHashMap<>();
            for (LocalStack.StackProcess p : stack.processes()) {
                m.put(p.name(), procStat(p.pid()));
            }
            m.put("bench (this JVM)", procStat(ProcessHandle.current().pid()));
            return m;
        }
    }

    private static final double CLOCK_TICKS = clockTicks();

    private static double clockTicks() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            p.waitFor();
            return Double.parseDouble(out);
        } catch (IOException | RuntimeException e) {
            return 100;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 100;
        }
    }

    /** {@code [cpu seconds, VmRSS MiB, VmHWM MiB]} of a process from {@code /proc}; zeros when it is gone. */
    static double[] procStat(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            double cpu = (Long.parseLong(f[11]) + Long.parseLong(f[12])) / CLOCK_TICKS;
            double rss = 0;
            double hwm = 0;
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                } else if (line.startsWith("VmHWM:")) {
                    hwm = Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
            return new double[]{cpu, rss, hwm};
        } catch (IOException | RuntimeException e) {
            return new double[3];
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

    private static Map<String, double[]> diff(Map<String, double[]> after, Map<String, double[]> before) {
        Map<String, double[]> d = new LinkedHashMap<>();
        after.forEach((k, v) -> {
            double[] b = before.getOrDefault(k, new double[v.length]);
            double[] r = new double[v.length];
            for (int i = 0; i < v.length; i++) {
                r[i] = v[i] - b[i];
            }
            d.put(k, r);
        });
        return d;
    }

    private static <T extends ConveyorEvent> Instant at(List<RunCollector.Seen> events, Class<T> type) {
        return events.stream().filter(s -> type.isInstance(s.event())).map(s -> s.event().occurredAt()).min(
                Comparator.naturalOrder()).orElse(null);
    }

    private static Instant syncedAt(List<RunCollector.Seen> events) {
        return events.stream().filter(s -> s.event() instanceof RepoSynced).map(RunCollector.Seen::readAt).min(
                Comparator.naturalOrder()).orElse(null);
    }

    /** Hook sent → {@code RepoSynced} read by the bench, in seconds. */
    private static double toSynced(Sent s, List<RunCollector.Seen> events) {
        Instant synced = syncedAt(events);
        return synced == null ? Double.NaN : Duration.between(s.at(), synced).toMillis() / 1000.0;
    }

    private static Double stageSeconds(Stage st, Sent s, List<RunCollector.Seen> events) {
        Instant from = st.in() == null ? s.at() : at(events, st.in());
        Instant to = at(events, st.out());
        return from == null || to == null ? null : Duration.between(from, to).toMillis() / 1000.0;
    }

    private static String stageLine(Sent s, List<RunCollector.Seen> events) {
        StringBuilder b = new StringBuilder("stages:");
        for (Stage st : STAGES) {
            Double v = stageSeconds(st, s, events);
            b.append(String.format(" %s %s", st.name(), v == null ? "-" : String.format("%.2f s", v)));
        }
        return b.toString();
    }

    private static double pct(List<Double> values, int p) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = values.stream().sorted(Comparator.naturalOrder()).toList();
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
