package dev.conveyor.fluxsync.service;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.git.RepoWriter;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Initial sync and no-op resync of a GitOps repository with plain objects and releases (each rendering a Deployment
 * and a Service from the repository's chart), against the Kubernetes API stand-in over loopback HTTP, measured for
 * the serial sync (render and apply concurrency 1: every release rendered and applied at its turn, one after the
 * other, as before renders ran in parallel) and the parallel one (the defaults, or the concurrencies given), in
 * alternation, each run on a fresh stand-in and mirror. Rollout waits are off (the stand-in has no controllers), so
 * the figures are fetch + parse + render + apply + prune + inventory + conditions. Prints each run with the load
 * average at its start, where the time went, and a side-by-side summary.
 *
 * <pre>
 * bench/run flux-sync dev.conveyor.fluxsync.service.SyncBench [objects] [releases] [resyncs] [rounds] [render] [apply]
 *     [modes]
 * </pre>
 *
 * Defaults {@code 1000 100 7 2}: 1,300 objects (10 namespaces, 990 plain manifests, 100 release objects, 200 rendered
 * objects); {@code 10000 1000 5 1} gives 13,000. {@code rounds} serial/parallel pairs, the order of each pair
 * alternating; {@code modes} {@code serial,parallel} (the default), or {@code parallel} (or {@code serial}) alone:
 * {@code rounds} runs of that mode. Every request of a no-op resync is counted on the wire ({@link ApiCalls}): the
 * median no-op's calls and writes are printed with each no-op's. The median is over the no-ops after the first (the
 * first after an initial sync is printed by itself). Each sync's cost is printed too: its requests, the stand-in's
 * own handling of them (time and CPU of its threads, {@link KubernetesApiStandIn#serverNanos()}) and this process's
 * CPU, so the time of the stand-in (which scans everything it stores on each request) is told from flux-sync's.
 */
public final class SyncBench {

    private record Run(String mode, long initial, long noopMedian, long noopMin, long noopMax, long oneChanged,
            String load, Map<String, Duration> initialPhases, Map<String, Duration> noopPhases, int noopCalls,
            int noopWrites, long firstNoop, int firstNoopWrites, Cost initialCost) {
    }

    /**
     * What one sync cost: requests on the wire, the stand-in's own handling of them (time from request read to
     * response composed, and the CPU of its threads meanwhile, both summed over its threads), and this process's CPU.
     */
    private record Cost(int requests, int writes, long standInMillis, long standInCpuMillis, long processCpuMillis) {

        static long processCpu() {
            return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                    .getProcessCpuTime();
        }

        static Cost since(ApiCalls calls, KubernetesApiStandIn kube, long serverNanos, long serverCpu,
                long processCpu) {
            List<String> all = calls.all();
            return new Cost(all.size(), (int) all.stream().filter(c -> !c.startsWith("GET ")).count(),
                    (kube.serverNanos() - serverNanos) / 1_000_000, (kube.serverCpuNanos() - serverCpu) / 1_000_000,
                    (processCpu() - processCpu) / 1_000_000);
        }

        @Override
        public String toString() {
            return String.format("%d requests (%d writes); stand-in handling %d ms (CPU %d ms) summed over its "
                    + "threads; process CPU %d ms, of which not the stand-in's %d ms", requests, writes,
                    standInMillis, standInCpuMillis, processCpuMillis, processCpuMillis - standInCpuMillis);
        }
    }

    public static void main(String[] args) throws Exception {
        int objects = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int releases = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        int resyncs = args.length > 2 ? Integer.parseInt(args[2]) : 7;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        int render = args.length > 4 ? Integer.parseInt(args[4]) : RepoReconciler.Settings.defaultRenderConcurrency();
        int apply = args.length > 5 ? Integer.parseInt(args[5]) : RepoReconciler.Settings.defaultApplyConcurrency();
        List<String> modes = List.of((args.length > 6 ? args[6] : "serial,parallel").split(","));
        Path work = Files.createTempDirectory("flux-sync-bench");
        List<Run> runs = new ArrayList<>();
        try (GitRepos repos = new GitRepos(); GitAccess access = GitAccess.create(GitCredentials.none())) {
            BareRepo repo = repos.createBare("bench");
            RepoWriter w = SeedRepo.chart(repo.writer());
            int namespaces = 10;
            for (int n = 0; n < namespaces; n++) {
                w.file("namespaces/ns" + n + ".yaml", SeedRepo.namespace("ns" + n));
            }
            for (int i = 0; i < objects - namespaces; i++) {
                String ns = "ns" + (i % namespaces);
                w.file("releases/manifests/" + ns + "/cm" + i + ".yaml", i % 10 == 0
                        ? SeedRepo.deployment("app" + i)
                        : SeedRepo.configMap("cm" + i, "value-" + i));
            }
            for (int r = 0; r < releases; r++) {
                String ns = "ns" + (r % namespaces);
                w.file("releases/helm/" + ns + "/rel" + r + ".yaml", SeedRepo.fluxHelmRelease("rel" + r, ns,
                        "example/app:" + r, ""));
            }
            w.message("bench layout\n\nConveyor-Run: r-0123456789abcdef01234567\n").commit();
            System.out.printf("repository: %d plain objects, %d releases; %d no-op resyncs per run; parallel: render "
                    + "concurrency %d, apply concurrency %d; %d available processors%n", objects, releases, resyncs,
                    render, apply, Runtime.getRuntime().availableProcessors());

            int n = 0;
            for (int round = 0; round < rounds; round++) {
                boolean serialFirst = round % 2 == 0;
                for (int k = 0; k < modes.size(); k++) {
                    boolean serial = modes.size() == 2 ? (k == 0) == serialFirst : modes.get(0).equals("serial");
                    runs.add(run(serial ? "serial" : "parallel", serial ? 1 : render, serial ? 1 : apply, repo,
                            access, work.resolve("run-" + n), resyncs, n));
                    n++;
                }
            }
        }
        System.out.println();
        System.out.println("| run | load avg (1/5/15 min) at start | initial sync | its requests (writes) | stand-in "
                + "handling, summed (CPU) | first no-op (writes) | no-op median (min–max) | one release changed | "
                + "API calls of the median no-op (writes) |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        for (Run r : runs) {
            System.out.printf("| %s | %s | %.1f s | %d (%d) | %.1f s (%.1f s) | %d ms (%d) | %d ms (%d–%d) | %d ms | "
                    + "%d (%d) |%n", r.mode(), r.load(), r.initial() / 1000.0, r.initialCost().requests(),
                    r
                            .initialCost().writes(),
                    r.initialCost().standInMillis() / 1000.0, r.initialCost().standInCpuMillis() / 1000.0, r
                            .firstNoop(),
                    r.firstNoopWrites(), r.noopMedian(), r.noopMin(), r.noopMax(), r.oneChanged(), r.noopCalls(), r
                            .noopWrites());
        }
        // The stand-in's and the client's threads are not daemons.
        System.exit(0);
    }

    private static Run run(String mode, int render, int apply, BareRepo repo, GitAccess access, Path work,
            int resyncs, int n) throws Exception {
        String[] avg = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
        String load = String.join(" ", avg[0], avg[1], avg[2]);
        ApiCalls calls = new ApiCalls();
        try (KubernetesApiStandIn kube = KubernetesApiStandIn.start()) {
            RepoReconciler reconciler = new RepoReconciler(new RepoMirrors(work.resolve("mirrors"), access),
                    new KubeCluster(calls.client(kube), "conveyor-flux-sync"), new ChartRenderer(work.resolve("work")),
                    new RepoReconciler.Settings("charts", "conveyor", Duration.ZERO, Duration.ofMillis(1), work
                            .resolve("work"), render, apply),
                    new SimpleMeterRegistry(), Clock.systemUTC());
            RepoSpec spec = new RepoSpec("bench", repo.fileUrl(), "main", "", Duration.ofMinutes(5), true, false);

            calls.reset();
            long server = kube.serverNanos();
            long serverCpu = kube.serverCpuNanos();
            long cpu = Cost.processCpu();
            SyncResult initial = reconciler.sync(spec, Set.of());
            Cost initialCost = Cost.since(calls, kube, server, serverCpu, cpu);
            System.out.printf("%n[%s, render %d, apply %d, load %s] initial sync: %d ms (%s; %d problems)%n", mode,
                    render, apply, load, initial.duration().toMillis(), initial.summary(), initial.problems().size());
            System.out.println("  initial sync cost: " + initialCost);
            System.out
                    .println("  where the time went: " + SyncTimings.describe(initial.phases()) + "; renders at once: "
                            + initial.timings().rendersAtOnce());
            List<SyncResult> noops = new ArrayList<>();
            Map<SyncResult, List<String>> callsOf = new java.util.IdentityHashMap<>();
            Map<SyncResult, Cost> costOf = new java.util.IdentityHashMap<>();
            System.out.println("  no-op resyncs from " + java.time.LocalTime.now());
            for (int i = 0; i < resyncs; i++) {
                calls.reset();
                server = kube.serverNanos();
                serverCpu = kube.serverCpuNanos();
                cpu = Cost.processCpu();
                SyncResult noop = reconciler.sync(spec, Set.of());
                noops.add(noop);
                callsOf.put(noop, calls.all());
                costOf.put(noop, Cost.since(calls, kube, server, serverCpu, cpu));
            }
            // the first no-op after the initial sync is not counted in the median (it may have things to catch up)
            List<SyncResult> steady = resyncs > 2 ? noops.subList(1, noops.size()) : noops;
            List<SyncResult> sorted = new ArrayList<>(steady);
            sorted.sort((a, b) -> a.duration().compareTo(b.duration()));
            SyncResult median = sorted.get(sorted.size() / 2);
            System.out.printf("  no-op resync: median %d ms, min %d ms, max %d ms over %d runs (%s)%n", median
                    .duration().toMillis(), sorted.get(0).duration().toMillis(),
                    sorted.get(sorted.size() - 1)
                            .duration().toMillis(),
                    sorted.size(), median.summary());
            System.out.println("  where the time went (median no-op): " + SyncTimings.describe(median.phases()));
            List<String> medianCalls = callsOf.get(median);
            List<String> medianWrites = medianCalls.stream().filter(c -> !c.startsWith("GET ")).toList();
            System.out.printf("  API calls of the median no-op: %d, of which writes %d%s%n", medianCalls.size(),
                    medianWrites.size(), medianWrites.isEmpty() ? "" : " (first: " + medianWrites.get(0) + ")");
            for (int i = 0; i < noops.size(); i++) {
                List<String> c = callsOf.get(noops.get(i));
                System.out.printf("    no-op %d: %d ms, %s%n", i + 1, noops.get(i).duration().toMillis(), costOf.get(
                        noops.get(i)));
            }

            repo.writer().file("releases/helm/ns0/rel0.yaml", SeedRepo.fluxHelmRelease("rel0", "ns0",
                    "example/app:changed-" + n, "")).message("one release changed").commit();
            SyncResult one = reconciler.sync(spec, Set.of());
            System.out.printf("  resync after one release changed: %d ms (%s)%n", one.duration().toMillis(), one
                    .summary());
            return new Run(mode, initial.duration().toMillis(), median.duration().toMillis(), sorted.get(0).duration()
                    .toMillis(), sorted.get(sorted.size() - 1).duration().toMillis(), one.duration().toMillis(),
                    load, new LinkedHashMap<>(initial.phases()),
                    new LinkedHashMap<>(median.phases()), medianCalls.size(), medianWrites.size(), noops.get(0)
                            .duration().toMillis(),
                    costOf.get(noops.get(0)).writes(), initialCost);
        }
    }
}
