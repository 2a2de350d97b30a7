package dev.conveyor.fluxsync.service;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
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
 * Initial sync and no-op resync of a GitOps repository with 1,000 plain objects and 100 releases (each rendering a
 * Deployment and a Service from the repository's chart), against the Kubernetes API stand-in over loopback HTTP.
 * Rollout waits are off (the stand-in has no controllers), so the figures are fetch + parse + render + apply + prune +
 * inventory. Prints its figures.
 *
 * <pre>
 * bench/run flux-sync dev.conveyor.fluxsync.service.SyncBench [objects] [releases] [resyncs]
 * </pre>
 */
public final class SyncBench {

    public static void main(String[] args) throws Exception {
        int objects = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int releases = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        int resyncs = args.length > 2 ? Integer.parseInt(args[2]) : 7;
        Path work = Files.createTempDirectory("flux-sync-bench");
        try (KubernetesApiStandIn kube = KubernetesApiStandIn.start();
                GitRepos repos = new GitRepos();
                GitAccess access = GitAccess.create(GitCredentials.none())) {
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

            RepoReconciler reconciler = new RepoReconciler(new RepoMirrors(work.resolve("mirrors"), access),
                    new KubeCluster(kube.newClient(), "conveyor-flux-sync"), new ChartRenderer(work.resolve("work")),
                    new RepoReconciler.Settings("charts", "conveyor", Duration.ZERO, Duration.ofMillis(1), work
                            .resolve("work")),
                    new SimpleMeterRegistry(), Clock.systemUTC());
            RepoSpec spec = new RepoSpec("bench", repo.fileUrl(), "main", "", Duration.ofMinutes(5), true, false);

            SyncResult initial = reconciler.sync(spec, Set.of());
            System.out.printf("initial sync: %d ms (%s; %d problems)%n", initial.duration().toMillis(), initial
                    .summary(), initial.problems().size());
            List<Long> noop = new ArrayList<>();
            SyncResult last = null;
            for (int i = 0; i < resyncs; i++) {
                last = reconciler.sync(spec, Set.of());
                noop.add(last.duration().toMillis());
            }
            Collections.sort(noop);
            System.out.printf("no-op resync: median %d ms, min %d ms, max %d ms over %d runs (%s)%n", noop.get(noop
                    .size() / 2), noop.get(0), noop.get(noop.size() - 1), resyncs, last.summary());

            repo.writer().file("releases/helm/ns0/rel0.yaml", SeedRepo.fluxHelmRelease("rel0", "ns0",
                    "example/app:changed", "")).message("one release changed").commit();
            SyncResult one = reconciler.sync(spec, Set.of());
            System.out.printf("resync after one release changed: %d ms (%s)%n", one.duration().toMillis(), one
                    .summary());
        }
        // The stand-in's and the client's threads are not daemons.
        System.exit(0);
    }
}
