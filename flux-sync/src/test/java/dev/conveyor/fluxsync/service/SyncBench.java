package dev.conveyor.fluxsync.service;

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
 * median no-op's calls and writes are printed with each no-op's.
 */
public final class SyncBench {

    private record Run(String mode, long initial, long noopMedian, long noopMin, long noopMax, long oneChanged,
            String load, Map<String, Duration> initialPhases, Map<String, Duration> noopPhases, int noopCalls,
            int noopWrites) {
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
        System.out.println("| run | load avg (1/5/15 min) at start | initial sync | no-op resync median (min–max) | "
                + "one release changed | API calls of the median no-op (writes) |");
        System.out.println("|---|---|---|---|---|---|");
        for (Run r : runs) {
            System.out.printf("| %s | %s | %.1f s | %d ms (%d–%d) | %d ms | %d (%d) |%n", r.mode(), r.load(),
                    r.initial() / 1000.0, r.noopMedian(), r.noopMin(), r.noopMax(), r.oneChanged(), r.noopCalls(), r
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

            SyncResult initial = reconciler.sync(spec, Set.of());
            System.out.printf("%n[%s, render %d, apply %d, load %s] initial sync: %d ms (%s; %d problems)%n", mode,
                    render, apply, load, initial.duration().toMillis(), initial.summary(), initial.problems().size());
            System.out
                    .println("  where the time went: " + SyncTimings.describe(initial.phases()) + "; renders at once: "
                            + initial.timings().rendersAtOnce());
            List<SyncResult> noops = new ArrayList<>();
            Map<SyncResult, List<String>> callsOf = new java.util.IdentityHashMap<>();
            for (int i = 0; i < resyncs; i++) {
                calls.reset();
                SyncResult noop = reconciler.sync(spec, Set.of());
                noops.add(noop);
                callsOf.put(noop, calls.all());
            }
            List<SyncResult> sorted = new ArrayList<>(noops);
            sorted.sort((a, b) -> a.duration().compareTo(b.duration()));
            SyncResult median = sorted.get(sorted.size() / 2);
            System.out.printf("  no-op resync: median %d ms, min %d ms, max %d ms over %d runs (%s)%n", median
                    .duration().toMillis(), sorted.get(0).duration().toMillis(),
                    sorted.get(sorted.size() - 1)
                            .duration().toMillis(),
                    resyncs, median.summary());
            System.out.println("  where the time went (median no-op): " + SyncTimings.describe(median.phases()));
            List<String> medianCalls = callsOf.get(median);
            List<String> medianWrites = medianCalls.stream().filter(c -> !c.startsWith("GET ")).toList();
            System.out.printf("  API calls of the median no-op: %d, of which writes %d%s%n", medianCalls.size(),
                    medianWrites.size(), medianWrites.isEmpty() ? "" : " (first: " + medianWrites.get(0) + ")");
            for (int i = 0; i < noops.size(); i++) {
                List<String> c = callsOf.get(noops.get(i));
                System.out.printf("    no-op %d: %d ms, %d API calls, %d writes%n", i + 1, noops.get(i).duration()
                        .toMillis(), c.size(), c.stream().filter(x -> !x.startsWith("GET ")).count());
            }

            repo.writer().file("releases/helm/ns0/rel0.yaml", SeedRepo.fluxHelmRelease("rel0", "ns0",
                    "example/app:changed-" + n, "")).message("one release changed").commit();
            SyncResult one = reconciler.sync(spec, Set.of());
            System.out.printf("  resync after one release changed: %d ms (%s)%n", one.duration().toMillis(), one
                    .summary());
            return new Run(mode, initial.duration().toMillis(), median.duration().toMillis(), sorted.get(0).duration()
                    .toMillis(), sorted.get(sorted.size() - 1).duration().toMillis(), one.duration().toMillis(),
                    load, new LinkedHashMap<>(initial.phases()),
                    new LinkedHashMap<>(median.phases()), medianCalls.size(), medianWrites.size());
        }
    }
}
