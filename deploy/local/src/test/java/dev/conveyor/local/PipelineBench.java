package dev.conveyor.local;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.events.v1.RepoSynced;

/**
 * The whole pipeline on the local stack, measured: start-up of every process, then CD runs of the sample app one after
 * another and in a burst of concurrent commits, each timed from the Jenkins hook to {@code RepoSynced} (the commit is
 * in the cluster) and to {@code ReleaseHealthy}.
 *
 * <pre>
 * ./mvnw -B -q package -DskipTests -pl deploy/local -am
 * bench/run deploy/local dev.conveyor.local.PipelineBench [sequential runs, default 10] [burst size, default 5] \
 *     [processes per service, default 1]
 * </pre>
 *
 * With several processes per service ({@code ./conveyor up --replicas N}) the runs are still of ONE app: its events
 * share one partition per topic, so one replica of each stage does them in order and the others stand by.
 */
public final class PipelineBench {

    public static void main(String[] args) throws Exception {
        int sequential = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int burst = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int replicas = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        Path project = Path.of(System.getProperty("conveyor.project.dir", ".")).toAbsolutePath().normalize();
        Path target = project.resolve("deploy/local/target");
        String classpath = target.resolve("classes") + ":" + Files.readString(target.resolve("classpath.txt"))
                .trim();
        Path data = Files.createTempDirectory("conveyor-bench");
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        LocalStack stack = new LocalStack(project, data, classpath, System.out).withReplicas(replicas);
        long begin = System.nanoTime();
        try {
            LocalStack.Running running = stack.up(Optional.empty());
            System.out.printf("stack up (host + 7 services x %d, in parallel) in %.1f s%n", replicas, seconds(begin));
            running.startMillis().forEach((s, ms) -> System.out.printf("  %-18s ready after %5.1f s, %s MiB RSS%n",
                    s, ms / 1000.0, LocalStack.rssMiB(Long.parseLong(stack.layout().processes().get(s + ".pid")))
                            .map(String::valueOf).orElse("?")));
            Demo demo = new Demo(running, stack.layout(), quiet);

            Pipeline.RunEvents first = demo.cd(2, "feat: first release");
            System.out.printf("first run (cold JITs, first image push, first chart): hook -> RepoSynced %.1f s%n",
                    first.hookToSynced().toMillis() / 1000.0);

            List<Double> toSynced = new ArrayList<>();
            List<Double> toHealthy = new ArrayList<>();
            for (int i = 0; i < sequential; i++) {
                Pipeline.RunEvents run = demo.cd(3 + i, "fix: change " + (3 + i));
                if (!run.succeeded()) {
                    throw new IllegalStateException("run failed: " + run.events());
                }
                toSynced.add(run.hookToSynced().toMillis() / 1000.0);
                toHealthy.add(healthyAfter(run));
            }
            report("sequential CD runs", toSynced, toHealthy);

            // A burst: several commits land on main at once and Jenkins sends their hooks together.
            int base = 3 + sequential;
            List<String> commits = new ArrayList<>();
            for (int i = 0; i < burst; i++) {
                commits.add(demo.app().change("main", base + i, "fix: burst change " + (base + i)));
            }
            List<SampleApp.Artifact> artifacts = commits.stream().map(c -> demo.app().build(c)).toList();
            ExecutorService pool = Executors.newFixedThreadPool(burst);
            long burstBegin = System.nanoTime();
            List<Future<Pipeline.RunEvents>> runs = new ArrayList<>();
            for (int i = 0; i < burst; i++) {
                String commit = commits.get(i);
                SampleApp.Artifact artifact = artifacts.get(i);
                int n = base + i;
                runs.add(pool.submit(() -> {
                    Pipeline.Accepted a = demo.pipeline().hook(demo.appRepoUrl(), commit, "main", null, null,
                            artifact, n);
                    return demo.pipeline().follow(a.runId(), a.attempt(), Flow.CD, a.sentAt(), Demo.RUN_TIMEOUT,
                            null);
                }));
            }
            List<Double> burstSynced = new ArrayList<>();
            List<Double> burstHealthy = new ArrayList<>();
            for (Future<Pipeline.RunEvents> f : runs) {
                Pipeline.RunEvents run = f.get();
                if (!run.succeeded()) {
                    throw new IllegalStateException("burst run failed: " + run.events());
                }
                burstSynced.add(run.hookToSynced().toMillis() / 1000.0);
                burstHealthy.add(healthyAfter(run));
            }
            pool.shutdown();
            report("burst of " + burst + " concurrent CD runs", burstSynced, burstHealthy);
            System.out.printf("  burst wall time %.1f s (%.2f runs/min)%n", seconds(burstBegin), burst * 60.0
                    / seconds(burstBegin));
            System.out.println("resident memory after the runs:");
            stack.status().forEach(l -> System.out.println("  " + l));
        } finally {
            long t = System.nanoTime();
            stack.down();
            System.out.printf("down in %.1f s%n", seconds(t));
            Conveyor.deleteTree(data);
        }
    }

    private static double healthyAfter(Pipeline.RunEvents run) {
        Instant hook = run.events().get(0).occurredAt();
        Instant healthy = run.one(ReleaseHealthy.class).occurredAt();
        Instant synced = run.one(RepoSynced.class).occurredAt();
        return Duration.between(hook, healthy.isAfter(synced) ? healthy : synced).toMillis() / 1000.0;
    }

    private static void report(String what, List<Double> synced, List<Double> healthy) {
        System.out.printf("%s (%d): hook -> RepoSynced p50 %.2f s, p95 %.2f s, max %.2f s; BuildSucceeded ->"
                + " healthy p50 %.2f s, max %.2f s%n", what, synced.size(), pct(synced, 50), pct(synced, 95),
                pct(
                        synced, 100),
                pct(healthy, 50), pct(healthy, 100));
    }

    private static double pct(List<Double> values, int p) {
        List<Double> sorted = values.stream().sorted(Comparator.naturalOrder()).toList();
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
