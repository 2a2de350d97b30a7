package dev.conveyor.local;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import dev.conveyor.events.v1.BuildFailed;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.events.v1.RunIds;
import dev.conveyor.events.v1.StageFailed;
import dev.conveyor.events.v1.VersionResolved;

/**
 * {@code ./conveyor chaos}: CD runs of the sample app, one after another, each with a process killed ({@code kill -9})
 * while it works on that run, the stack restarted the way {@code ./conveyor up} does, and the run's effects checked
 * against {@link ChaosInvariants}.
 *
 * <p>
 * A kill is timed from the record that is the working stage's input (the hook itself for the gateway): when that
 * record of the run appears, the suite waits a random (seeded) delay within the stage's typical work time, measured on
 * two warm-up runs, then kills. Takeover is the time from the kill to that stage's next event for the run (for the
 * notifier: its next call to the stubs for the run).
 */
public final class ChaosSuite {

    /** The stages whose input is an event topic, in pipeline order. */
    static final List<String> PIPELINE = List.of("versioner", "image-builder", "manifest-renderer", "promoter",
            "flux-sync");
    /** What the notifier may be working on when it is killed. */
    static final List<Class<? extends ConveyorEvent>> NOTIFIER_INPUTS = List.of(BuildSucceeded.class,
            VersionResolved.class, ImagePushed.class, ManifestsValidated.class, ReleasePromoted.class,
            RepoSynced.class);
    static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(150);
    private static final Duration FLOOR = Duration.ofMillis(20);

    /** What is killed ({@code process}: a service, {@code broker} or {@code stack}) while {@code stage} works. */
    public record Target(String process, String stage) {
        @Override
        public String toString() {
            return process.equals(stage) ? process : process + " (" + stage + " at work)";
        }
    }

    /** One run and what happened to it. */
    public record RunResult(int index, String runId, String commit, Target target, String input, Duration window,
            Long killAfterInputMs, boolean midWork, Duration restart, List<String> restarted, String outcome,
            Duration takeover,
            List<ChaosInvariants.Violation> violations, List<String> killed, int replicas) {
    }

    /** Every run, the violations found only when all runs were checked again at the end, and the totals. */
    public record Summary(List<RunResult> runs, List<String> lateViolations, boolean aborted, boolean overBudget) {

        public int violationCount() {
            return runs.stream().mapToInt(r -> r.violations().size()).sum() + lateViolations.size();
        }

        /** Kills that landed while the process worked on its run, by process. */
        public Map<String, Long> midWorkKills() {
            Map<String, Long> counts = new LinkedHashMap<>();
            runs.stream().filter(r -> r.target() != null && r.midWork()).forEach(r -> counts.merge(r.target()
                    .process(), 1L, Long::sum));
            return counts;
        }

        public List<Duration> takeovers() {
            return runs.stream().map(RunResult::takeover).filter(t -> t != null).sorted().toList();
        }
    }

    private final LocalStack stack;
    private final Optional<Path> kubeconfig;
    private final PrintStream out;
    private final long seed;
    private final Random random;
    private final Duration deadline;
    private final ChaosProbe probe;
    private final SampleApp app;
    private final Map<String, Duration> windows = new LinkedHashMap<>();
    private LocalStack.Running running;
    private Duration budget;
    /** The gateway replica hooks go to (another one after that one is killed, as a load balancer would). */
    private String hookVia = "gateway";
    private org.apache.kafka.clients.admin.Admin admin;

    public ChaosSuite(LocalStack stack, Optional<Path> kubeconfig, PrintStream out, long seed, Duration deadline) {
        this.stack = stack;
        this.kubeconfig = kubeconfig;
        this.out = out;
        this.seed = seed;
        this.random = new Random(seed);
        this.deadline = deadline;
        this.probe = new ChaosProbe(stack.layout());
        this.app = new SampleApp(stack.layout());
    }

    /**
     * Bounds the whole suite: once {@code total} has passed, no further run starts (the one in progress ends within its
     * own deadline), and the summary says so.
     */
    public ChaosSuite budget(Duration total) {
        this.budget = total;
        return this;
    }

    /** {@code ./conveyor chaos --runs N --kill <service>|services|broker|stack [--seed S] [--deadline SECONDS]}. */
    public static int command(LocalStack stack, List<String> args, Optional<Path> kubeconfig, PrintStream out) {
        String usage = "usage: ./conveyor chaos --runs N --kill <service>|services|broker|stack [--seed S]"
                + " [--deadline SECONDS] [--budget SECONDS] [--replicas N]";
        int runs = Integer.parseInt(option(args, "--runs", "7", usage));
        String kill = option(args, "--kill", null, usage);
        if (kill == null) {
            throw new IllegalArgumentException("--kill is required; " + usage);
        }
        if (runs < 1) {
            throw new IllegalArgumentException("--runs must be at least 1; " + usage);
        }
        long seed = Long.parseLong(option(args, "--seed", Long.toString(System.nanoTime() % 1_000_000), usage));
        Duration deadline = Duration.ofSeconds(Long.parseLong(option(args, "--deadline", Long.toString(
                DEFAULT_DEADLINE.toSeconds()), usage)));
        ChaosSuite suite = new ChaosSuite(stack, kubeconfig, out, seed, deadline);
        Optional.ofNullable(option(args, "--budget", null, usage)).ifPresent(b -> suite.budget(Duration.ofSeconds(Long
                .parseLong(b))));
        Summary summary = suite.run(plan(kill, runs), 0, 0);
        return summary.violationCount() == 0 ? 0 : 4;
    }

    private static String option(List<String> args, String name, String fallback, String usage) {
        int i = args.indexOf(name);
        if (i < 0) {
            return fallback;
        }
        if (i + 1 >= args.size()) {
            throw new IllegalArgumentException(name + " needs a value; " + usage);
        }
        return args.get(i + 1);
    }

    /** The kills of {@code --kill <what>} for {@code runs} runs. */
    public static List<Target> plan(String kill, int runs) {
        List<Target> plan = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            plan.add(switch (kill) {
                case "services" -> {
                    String s = ServiceSpec.ALL.get(i % ServiceSpec.ALL.size()).name();
                    yield new Target(s, s);
                }
                case "broker" -> new Target("broker", PIPELINE.get(i % PIPELINE.size()));
                case "stack" -> new Target("stack", PIPELINE.get(i % PIPELINE.size()));
                default -> {
                    String s = ServiceSpec.named(kill).name();
                    yield new Target(s, s);
                }
            });
        }
        return plan;
    }

    /**
     * Runs the plan after two warm-up runs (no kill; they measure each stage's work time). With
     * {@code minMidWorkPerService > 0}, services killed mid-work fewer times than that get extra runs (at most
     * {@code maxExtraRuns}) before the plan's broker and stack kills.
     */
    public Summary run(List<Target> plan, int minMidWorkPerService, int maxExtraRuns) {
        out.printf("Chaos: %d runs (seed %d), one after another, CD flow; deadline %d s per run%n", plan.size(), seed,
                deadline.toSeconds());
        long started = System.nanoTime();
        running = stack.up(kubeconfig);
        Map<String, Integer> counts = stack.replicaCounts();
        if (counts.values().stream().anyMatch(n -> n > 1)) {
            out.println("  replicas: " + counts + "; a kill hits the one replica at work on the run, and the stack is"
                    + " restarted (up) only once the run has ended: the others take over");
        }
        List<RunResult> results = new ArrayList<>();
        boolean aborted = false;
        boolean overBudget = false;
        try (ChaosWatcher watcher = new ChaosWatcher(() -> probe.stack().get(StackLayout.KAFKA))) {
            watcher.awaitStarted(Duration.ofSeconds(30));
            for (int w = 1; w <= 2; w++) {
                RunResult warm = runOnce(watcher, -w, null);
                results.add(warm);
                if (w == 2) {
                    measureWindows(watcher, warm.runId(), null);
                }
            }
            out.println("  stage work windows (from the warm-up): " + windows.entrySet().stream().map(e -> e
                    .getKey() + " " + e.getValue().toMillis() + " ms").reduce((a, b) -> a + ", " + b).orElse(""));
            List<Target> services = plan.stream().filter(t -> !t.process().equals("broker") && !t.process().equals(
                    "stack")).toList();
            List<Target> rest = plan.stream().filter(t -> !services.contains(t)).toList();
            List<Target> queue = new ArrayList<>(services);
            int index = 0;
            int extra = 0;
            while (!aborted) {
                if (queue.isEmpty()) {
                    // The plan's broker and stack kills before any extra run, so that a budget never skips them.
                    Optional<String> lacking = minMidWorkPerService <= 0 || extra >= maxExtraRuns
                            ? Optional.empty()
                            : services.stream().map(Target::process).distinct()
                                    .filter(s -> midWork(results, s) < minMidWorkPerService).findFirst();
                    if (!rest.isEmpty()) {
                        queue.addAll(rest);
                        rest = List.of();
                    } else if (lacking.isPresent()) {
                        extra++;
                        queue.add(new Target(lacking.get(), lacking.get()));
                    } else {
                        break;
                    }
                }
                if (budget != null && System.nanoTime() - started > budget.toNanos()) {
                    out.printf("  the suite's budget of %d s is used up: the remaining runs are skipped%n", budget
                            .toSeconds());
                    overBudget = true;
                    break;
                }
                Target target = queue.remove(0);
                index++;
                RunResult r = runOnce(watcher, index, target);
                results.add(r);
                if (r.violations().stream().anyMatch(v -> v.rule() == ChaosInvariants.Rule.RECOVERY)) {
                    out.println("  the stack did not come back: the remaining runs are skipped");
                    aborted = true;
                }
            }
        }
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
            admin = null;
        }
        List<String> late = recheck(results);
        Summary summary = new Summary(List.copyOf(results), late, aborted, overBudget);
        printTotals(summary);
        return summary;
    }

    private static long midWork(List<RunResult> results, String process) {
        return results.stream().filter(r -> r.target() != null && r.target().process().equals(process) && r
                .midWork()).count();
    }

    private RunResult runOnce(ChaosWatcher watcher, int index, Target target) {
        int change = app.appRepo().commits("main").size() + 1;
        String jiraKey = "SHOP-" + change;
        String commit = app.change("main", change, "feat: " + jiraKey + " chaos run " + (index < 0
                ? "warm-up " + -index
                : index));
        SampleApp.Artifact artifact = app.build(commit);
        String repoUrl = running.stack().get(StackLayout.GIT) + SampleApp.APP_REPO;
        String runId = RunIds.of(repoUrl, commit, Flow.CD, null);
        Instant begin = Instant.now();
        long end = System.nanoTime() + deadline.toNanos();
        List<ChaosInvariants.Violation> violations = new ArrayList<>();

        String input = "-";
        Duration window = null;
        Long killAfter = null;
        boolean midWork = false;
        Instant killedInput = null;
        Duration restart = null;
        List<String> restarted = List.of();
        List<String> killed = List.of();
        boolean restartAfterRun = false;
        int processes = 1;
        Instant killedAt = null;
        CompletableFuture<Pipeline.Accepted> hook;
        Instant hookSent = Instant.now();
        if (target == null) {
            hook = CompletableFuture.completedFuture(sendHook(repoUrl, commit, artifact, change, end));
        } else {
            if (target.stage().equals("notifier")) {
                notifierInput = drawNotifierInput();
            }
            window = windows.getOrDefault(windowKey(target.stage()), windows.getOrDefault(target.stage(), Duration
                    .ofMillis(200)));
            long delay = (long) (random.nextDouble() * window.toMillis());
            Instant inputAt;
            // With replicas of the target, one is killed (the one at work) and the others must take over: up runs
            // only after the run has ended.
            List<String> replicas = isService(target.process())
                    ? running.replicas(target.process())
                    : List.of(target.process());
            restartAfterRun = replicas.size() > 1;
            processes = replicas.size();
            String victim = replicas.get(0);
            if (target.stage().equals("gateway")) {
                input = "hook";
                if (restartAfterRun) {
                    // Only with replicas: a single gateway's runs draw exactly what they drew before (same seeds).
                    victim = replicas.get(random.nextInt(replicas.size()));
                }
                String via = victim;
                hookVia = victim;
                inputAt = Instant.now();
                hook = CompletableFuture.supplyAsync(() -> new Pipeline(running.via(via)).hook(repoUrl, commit, "main",
                        null, null, artifact, change));
            } else {
                // Who holds which partition, asked before the hook (once the group is stable again after the last
                // restart): the kill must not wait for the answer.
                Map<Integer, String> owners = restartAfterRun
                        ? awaitOwners(target.process(), dev.conveyor.events.v1.EventType.of(inputType(target
                                .stage())).topic(), replicas)
                        : Map.of();
                // Whoever reads the promotion, flux-sync's work is done by the replica owning the GitOps repository's
                // Lease: asked before the hook too.
                Optional<String> leaseOwner = restartAfterRun && target.stage().equals("flux-sync")
                        ? leaseHolder(replicas)
                        : Optional.empty();
                hookSent = Instant.now();
                hook = CompletableFuture.completedFuture(sendHook(repoUrl, commit, artifact, change, end));
                Predicate<ChaosEvent> isInput = inputOf(target.stage(), runId);
                input = inputName(target.stage());
                Optional<ChaosEvent> in = watcher.await(isInput, Duration.ofSeconds(60));
                inputAt = in.map(ChaosEvent::timestamp).orElse(null);
                if (restartAfterRun && in.isPresent()) {
                    ChaosEvent record = in.get();
                    victim = Optional.ofNullable(owners.get(record.partition())).orElseGet(() -> owners(target
                            .process(), record.topic(), replicas).get(record.partition()));
                    if (victim == null) {
                        victim = replicas.get(random.nextInt(replicas.size()));
                        out.printf("  the replica holding %s-%d is unknown: killing %s at random%n", record.topic(),
                                record.partition(), victim);
                    }
                }
                if (restartAfterRun && target.stage().equals("flux-sync")) {
                    if (leaseOwner.isPresent()) {
                        victim = leaseOwner.get();
                    } else {
                        out.printf("  the owner of the GitOps repository's Lease is unknown: killing %s%n", victim);
                    }
                }
            }
            if (restartAfterRun && target.stage().equals("gateway")) {
                // Jenkins' retry goes to a gateway that is still up.
                String dead = victim;
                hookVia = replicas.stream().filter(r -> !r.equals(dead)).findFirst().orElseThrow();
            }
            if (inputAt == null) {
                input += " (never came: no kill)";
            } else {
                sleepUntil(inputAt.plusMillis(delay));
                if (target.process().equals("stack")) {
                    probe.stubRequests(); // what the stubs have so far: their journal dies with the host
                }
                try {
                    Kill k = kill(target.process().equals(target.stage()) ? victim : target.process());
                    killed = k.names();
                    killedAt = k.at();
                } catch (IllegalStateException e) {
                    killedAt = Instant.now();
                    violations.add(new ChaosInvariants.Violation(ChaosInvariants.Rule.RECOVERY, e.getMessage()));
                }
                killAfter = Duration.between(inputAt, killedAt).toMillis();
                killedInput = killed.isEmpty() ? null : inputAt;
                if (!restartAfterRun) {
                    long t0 = System.nanoTime();
                    restarted = restart(killed, violations);
                    restart = Duration.ofNanos(System.nanoTime() - t0);
                }
            }
        }
        // Jenkins retries a hook that got no answer (the gateway died under it).
        try {
            hook.get(Math.max(1, (end - System.nanoTime()) / 1_000_000), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            sendHook(repoUrl, commit, artifact, change, end);
        }
        boolean ended = watcher.awaitAll(seen -> terminal(seen, runId), Duration.ofNanos(Math.max(0, end - System
                .nanoTime())));
        if (killedInput != null) {
            // Judged once the run is over: the watcher may see an output written just before the kill only later.
            midWork = !doneBefore(watcher, target.stage(), runId, killedInput, killedAt);
        }
        if (restart != null && violations.isEmpty() && !stack.isUp()) {
            // Up said ready, but a restarted process died since (e.g. its port was taken: up saw another answer).
            violations.add(new ChaosInvariants.Violation(ChaosInvariants.Rule.RECOVERY, "a process died after the"
                    + " restart: " + stack.status().stream().filter(l -> l.contains("stopped")).toList()));
        }
        Duration takeover = null;
        if (killedAt != null) {
            takeover = takeover(watcher, target.stage(), runId, killedAt);
        }
        if (restartAfterRun && killedAt != null) {
            // The survivors did the run's work; now the killed replica comes back, as up brings it.
            long t0 = System.nanoTime();
            restarted = restart(killed, violations);
            restart = Duration.ofNanos(System.nanoTime() - t0);
            hookVia = "gateway";
        }
        if (index > 0) {
            measureWindows(watcher, runId, target);
        }
        if (target == null || !target.stage().equals("gateway")) {
            Instant sent = hookSent;
            watcher.seen().stream().filter(e -> e.event() instanceof BuildSucceeded && e.namesRun(runId)).findFirst()
                    .ifPresent(e -> observe("gateway", Duration.between(sent, e.timestamp())));
        }
        ChaosRunFacts facts = settle(runId, commit, jiraKey, ended);
        if (eventsReadable) {
            violations.addAll(ChaosInvariants.check(facts));
        } else {
            // Without the topics nothing else can be judged: only that the run did not end.
            violations.add(new ChaosInvariants.Violation(ChaosInvariants.Rule.TERMINAL, "the event topics cannot"
                    + " be read (broker down); the other invariants were not checked"));
        }
        RunResult r = new RunResult(index, runId, commit, target, input, window, killAfter, midWork, restart,
                restarted, ChaosInvariants.outcome(facts.events(), runId), takeover, List.copyOf(violations), List
                        .copyOf(killed),
                processes);
        out.println(line(r, Duration.between(begin, Instant.now())));
        return r;
    }

    /**
     * What {@code ./conveyor up} does after a kill: {@link LocalStack#ensureUp}, checking that it restarted every killed
     * process and left none dead; what it restarted.
     */
    private List<String> restart(List<String> killed, List<ChaosInvariants.Violation> violations) {
        try {
            LocalStack.Supervision supervision = stack.ensureUp(kubeconfig);
            running = supervision.running();
            List<String> notRestarted = killed.stream().filter(k -> !supervision.restarted().contains(k)).toList();
            if (!notRestarted.isEmpty()) {
                // Healthy right after a kill -9: what answered on its port is not the process we killed.
                violations.add(new ChaosInvariants.Violation(ChaosInvariants.Rule.RECOVERY, "killed " + notRestarted
                        + ", but up found it healthy and did not restart it: another program answers on its port"));
            }
            if (!stack.isUp()) {
                violations.add(new ChaosInvariants.Violation(ChaosInvariants.Rule.RECOVERY,
                        "./conveyor up left a process dead: " + stack.status().stream().filter(l -> l.contains(
                                "stopped")).toList()));
            }
            return supervision.restarted();
        } catch (RuntimeException e) {
            violations.add(new ChaosInvariants.Violation(ChaosInvariants.Rule.RECOVERY, "./conveyor up failed: " + e
                    .getMessage().lines().findFirst().orElse("")));
            return List.of();
        }
    }

    private static boolean isService(String process) {
        return ServiceSpec.ALL.stream().anyMatch(s -> s.name().equals(process));
    }

    /**
     * The replica at work on an input record: the member of the stage's consumer group that holds the record's
     * partition, told by its client id (replica N's start with {@code <service>-N-}, see
     * {@link ServiceSpec#replicaConfig}), by partition of {@code topic}; empty when the group cannot be read (then a
     * random replica is killed).
     */
    private Map<Integer, String> owners(String service, String topic, List<String> replicas) {
        String group = groupOf(service);
        Map<Integer, String> owners = new LinkedHashMap<>();
        try {
            var description = admin().describeConsumerGroups(List.of(group)).all().get(5, TimeUnit.SECONDS).get(
                    group);
            for (var member : description.members()) {
                for (var partition : member.assignment().topicPartitions()) {
                    if (partition.topic().equals(topic)) {
                        owners.put(partition.partition(), ownerOf(member.clientId(), replicas));
                    }
                }
            }
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
        return owners;
    }

    /**
     * {@link #owners} once the group is stable and every partition of the topic has an owner (a replica restarted after
     * the previous run rejoins it first); what is known after 30 s otherwise.
     */
    private Map<Integer, String> awaitOwners(String service, String topic, List<String> replicas) {
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        Map<Integer, String> owners = Map.of();
        String why = "the group " + groupOf(service) + " did not settle";
        while (System.nanoTime() < until) {
            try {
                var description = admin().describeConsumerGroups(List.of(groupOf(service))).all().get(5,
                        TimeUnit.SECONDS).get(groupOf(service));
                int partitions = admin().describeTopics(List.of(topic)).allTopicNames().get(5, TimeUnit.SECONDS).get(
                        topic).partitions().size();
                owners = owners(service, topic, replicas);
                if (description.groupState() == org.apache.kafka.common.GroupState.STABLE && description.members()
                        .size() == replicas.size() && owners.size() == partitions) {
                    return owners;
                }
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                    return owners;
                }
                why = "the group " + groupOf(service) + " cannot be read: " + e;
            }
            pause(300);
        }
        out.println("  which replica holds which partition of " + topic + " is not known after 30 s: " + why);
        return owners;
    }

    /**
     * The flux-sync replica holding the sample GitOps repository's Lease (flux-sync/README.md, "Replicas"; the local
     * stack names each replica's identity after its process), if one of {@code replicas} holds it.
     */
    private Optional<String> leaseHolder(List<String> replicas) {
        // flux-sync's default namespace (conveyor.flux-sync.namespace), where its Leases are
        final String FLUX_SYNC_NAMESPACE = "conveyor";
        try {
            Path config = kubeconfig.orElse(Path.of(running.stack().get(StackLayout.KUBECONFIG)));
            try (var kube = new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(
                    io.fabric8.kubernetes.client.Config.fromKubeconfig(java.nio.file.Files.readString(config)))
                    .build()) {
                var lease = kube.leases().inNamespace(FLUX_SYNC_NAMESPACE).withName("flux-sync-repo-"
                        + ServiceSpec.FLUX_SYNC_REPO).get();
                return Optional.ofNullable(lease).map(l -> l.getSpec().getHolderIdentity()).filter(
                        replicas::contains);
            }
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    private org.apache.kafka.clients.admin.Admin admin() {
        if (admin == null) {
            java.util.Properties props = new java.util.Properties();
            props.put("bootstrap.servers", probe.stack().get(StackLayout.KAFKA));
            props.put("client.id", "conveyor-chaos-admin");
            props.put("request.timeout.ms", "5000");
            props.put("default.api.timeout.ms", "5000"); // at least request.timeout.ms, or the client is refused
            admin = org.apache.kafka.clients.admin.Admin.create(props);
        }
        return admin;
    }

    /** Which replica a consumer's client id belongs to: {@code versioner-2-...} is versioner-2, any other the first. */
    static String ownerOf(String clientId, List<String> replicas) {
        for (String r : replicas.subList(1, replicas.size())) {
            if (clientId.startsWith(r + "-")) {
                return r;
            }
        }
        return replicas.get(0);
    }

    /**
     * The consumer group of a stage on a topic (each service's application.properties; the notifier reads every topic
     * in one group, {@code conveyor.notifier.state.group-id}).
     */
    static String groupOf(String service) {
        return "conveyor-" + service;
    }

    private Pipeline.Accepted sendHook(String repoUrl, String commit, SampleApp.Artifact artifact, int change,
            long end) {
        RuntimeException last = null;
        while (System.nanoTime() < end) {
            try {
                return new Pipeline(running.via(hookVia)).hook(repoUrl, commit, "main", null, null, artifact, change);
            } catch (RuntimeException e) {
                last = e;
                pause(1000);
                running = stack.running().orElse(running);
            }
        }
        throw new IllegalStateException("the gateway took no hook before the deadline: " + (last == null
                ? ""
                : last.getMessage()));
    }

    /** The record that is the stage's input for the run. */
    private Predicate<ChaosEvent> inputOf(String stage, String runId) {
        Class<? extends ConveyorEvent> type = inputType(stage);
        return e -> type.isInstance(e.event()) && e.namesRun(runId);
    }

    private Class<? extends ConveyorEvent> notifierInput;

    private Class<? extends ConveyorEvent> inputType(String stage) {
        return switch (stage) {
            case "versioner" -> BuildSucceeded.class;
            case "image-builder" -> VersionResolved.class;
            case "manifest-renderer" -> ImagePushed.class;
            case "promoter" -> ManifestsValidated.class;
            case "flux-sync" -> ReleasePromoted.class;
            case "notifier" -> notifierInput;
            default -> throw new IllegalArgumentException("stage " + stage + " has no input topic");
        };
    }

    /**
     * What the notifier is killed on: half the time the run's {@code BuildSucceeded} (its longest work: the run's first
     * message), else one of its other inputs — those it answers within tens of milliseconds, about as fast as the
     * suite can see the record and kill.
     */
    private Class<? extends ConveyorEvent> drawNotifierInput() {
        return random.nextBoolean()
                ? BuildSucceeded.class
                : NOTIFIER_INPUTS.get(1 + random.nextInt(NOTIFIER_INPUTS.size() - 1));
    }

    /** The key of a stage's work window: the notifier's depends on its input. */
    private String windowKey(String stage) {
        return stage.equals("notifier") ? "notifier " + notifierInput.getSimpleName() : stage;
    }

    private String inputName(String stage) {
        return stage.equals("notifier") ? notifierInput.getSimpleName() : inputType0(stage).getSimpleName();
    }

    private static Class<? extends ConveyorEvent> inputType0(String stage) {
        return switch (stage) {
            case "versioner" -> BuildSucceeded.class;
            case "image-builder" -> VersionResolved.class;
            case "manifest-renderer" -> ImagePushed.class;
            case "promoter" -> ManifestsValidated.class;
            default -> ReleasePromoted.class;
        };
    }

    /** Whether the stage's work for the run is done: its last output (or its StageFailed). */
    private static boolean isDone(ChaosEvent e, String stage, String runId) {
        if (!e.namesRun(runId)) {
            return false;
        }
        if (e.event() instanceof StageFailed s && s.stage().id().equals(stage)) {
            return true;
        }
        return switch (stage) {
            case "gateway" -> e.event() instanceof BuildSucceeded;
            case "versioner" -> e.event() instanceof VersionResolved;
            case "image-builder" -> e.event() instanceof ImagePushed;
            case "manifest-renderer" -> e.event() instanceof ManifestsValidated;
            case "promoter" -> e.event() instanceof ReleasePromoted;
            case "flux-sync" -> e.isHealth();
            default -> false;
        };
    }

    private boolean doneBefore(ChaosWatcher watcher, String stage, String runId, Instant inputAt, Instant killedAt) {
        if (stage.equals("notifier")) {
            return probe.stubRequests().stream().anyMatch(r -> r.mentions(runId) && !r.loggedAt().isBefore(inputAt)
                    && r.loggedAt().isBefore(killedAt));
        }
        return watcher.seen().stream().anyMatch(e -> isDone(e, stage, runId) && e.timestamp().isBefore(killedAt));
    }

    /** Kill to the stage's next event for the run (the notifier's next call for it); null if none came. */
    private Duration takeover(ChaosWatcher watcher, String stage, String runId, Instant killedAt) {
        if (stage.equals("notifier")) {
            long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < until) {
                Optional<Instant> next = probe.stubRequests().stream().filter(r -> r.mentions(runId) && !r.loggedAt()
                        .isBefore(killedAt)).map(ChaosStubRequest::loggedAt).min(Comparator.naturalOrder());
                if (next.isPresent()) {
                    return Duration.between(killedAt, next.get());
                }
                pause(500);
            }
            return null;
        }
        String source = stage;
        return watcher.seen().stream().filter(e -> e.namesRun(runId) && (e.from(source) || source.equals("gateway")
                && e.event() instanceof BuildSucceeded) && !e.timestamp().isBefore(killedAt)).map(
                        ChaosEvent::timestamp)
                .min(Comparator.naturalOrder()).map(t -> Duration.between(killedAt, t))
                .orElse(null);
    }

    static boolean terminal(List<ChaosEvent> seen, String runId) {
        boolean synced = false;
        boolean health = false;
        for (ChaosEvent e : seen) {
            if (!e.namesRun(runId)) {
                continue;
            }
            ConveyorEvent ev = e.event();
            if (ev instanceof StageFailed || ev instanceof BuildFailed) {
                return true;
            }
            synced |= ev instanceof RepoSynced;
            health |= e.isHealth();
        }
        return synced && health;
    }

    /**
     * The run's facts once the notifier has caught up: the notification checks are repeated (up to 20 s) until they
     * hold, because its calls trail the events.
     */
    private ChaosRunFacts settle(String runId, String commit, String jiraKey, boolean ended) {
        long until = System.nanoTime() + Duration.ofSeconds(ended ? 20 : 2).toNanos();
        Set<ChaosInvariants.Rule> notifications = Set.of(ChaosInvariants.Rule.SLACK_MESSAGE,
                ChaosInvariants.Rule.SLACK_FINAL_STATE, ChaosInvariants.Rule.JIRA_COMMENT);
        while (true) {
            ChaosRunFacts facts = facts(runId, commit, jiraKey, ended);
            boolean pending = ChaosInvariants.check(facts).stream().anyMatch(v -> notifications.contains(v.rule()));
            if (!pending || System.nanoTime() > until) {
                return facts;
            }
            pause(250);
        }
    }

    private boolean eventsReadable = true;

    private ChaosRunFacts facts(String runId, String commit, String jiraKey, boolean ended) {
        List<ChaosEvent> events;
        try {
            events = probe.allEvents();
            eventsReadable = true;
        } catch (RuntimeException e) {
            events = List.of();
            eventsReadable = false;
        }
        List<String> versions = events.stream().filter(e -> e.event() instanceof ImagePushed && e.namesRun(runId))
                .map(e -> ((ImagePushed) e.event()).version()).distinct().toList();
        return new ChaosRunFacts(runId, Flow.CD, commit, jiraKey, ended, deadline, events, probe.appTags(), probe
                .appCommitMessages(), probe.gitopsCommitMessages(), probe.storedDigests(versions),
                probe
                        .stubRequests(),
                probe.jiraTransitionConfigured());
    }

    /** Every run checked again on the final facts: what broke after its line was printed. */
    private List<String> recheck(List<RunResult> results) {
        List<String> late = new ArrayList<>();
        for (RunResult r : results) {
            ChaosRunFacts f = facts(r.runId(), r.commit(), jiraKey(r), !r.outcome().equals("not ended"));
            if (!eventsReadable) {
                late.add("not rechecked: the event topics cannot be read (broker down)");
                break;
            }
            Set<String> before = new LinkedHashSet<>(r.violations().stream().map(Object::toString).toList());
            for (ChaosInvariants.Violation v : ChaosInvariants.check(f)) {
                if (!before.contains(v.toString())) {
                    late.add(r.runId() + " " + v);
                }
            }
        }
        return late;
    }

    private String jiraKey(RunResult r) {
        return app.appRepo().commits().stream().filter(c -> c.id().equals(r.commit())).findFirst().map(c -> {
            var m = java.util.regex.Pattern.compile("SHOP-[0-9]+").matcher(c.shortMessage());
            return m.find() ? m.group() : null;
        }).orElse(null);
    }

    /**
     * Per stage: from its input record to its last output, in a run where it was not killed. The window a kill is
     * drawn from is the shortest of the last five such times: the stage's typical work time, its quick end, so that
     * the kill lands while it works.
     */
    private void measureWindows(ChaosWatcher watcher, String runId, Target target) {
        List<ChaosEvent> seen = watcher.seen().stream().filter(e -> e.namesRun(runId)).toList();
        for (String stage : PIPELINE) {
            if (target != null && (target.stage().equals(stage) || !target.process().equals(target.stage()))) {
                continue;
            }
            Optional<Instant> in = seen.stream().filter(e -> inputType0(stage).isInstance(e.event())).map(
                    ChaosEvent::timestamp).min(Comparator.naturalOrder());
            Optional<Instant> done = seen.stream().filter(e -> isDone(e, stage, runId)).map(ChaosEvent::timestamp)
                    .min(Comparator.naturalOrder());
            if (in.isPresent() && done.isPresent()) {
                observe(stage, Duration.between(in.get(), done.get()));
            }
        }
        if (target == null || !target.stage().equals("notifier")) {
            List<ChaosStubRequest> calls = probe.stubRequests().stream().filter(r -> r.mentions(runId)).toList();
            Optional<Instant> build = seen.stream().filter(e -> e.event() instanceof BuildSucceeded).map(
                    ChaosEvent::timestamp).findFirst();
            Optional<Instant> posted = calls.stream().filter(ChaosStubRequest::isSlackPost).map(
                    ChaosStubRequest::loggedAt).min(Comparator.naturalOrder());
            if (build.isPresent() && posted.isPresent()) {
                observe("notifier", Duration.between(build.get(), posted.get()));
            }
            // Per input: from the record to the notifier's next call for the run.
            for (Class<? extends ConveyorEvent> type : NOTIFIER_INPUTS) {
                Optional<Instant> in = seen.stream().filter(e -> type.isInstance(e.event())).map(
                        ChaosEvent::timestamp).min(Comparator.naturalOrder());
                Optional<Instant> next = in.flatMap(at -> calls.stream().map(ChaosStubRequest::loggedAt).filter(
                        t -> !t.isBefore(at)).min(Comparator.naturalOrder()));
                if (next.isPresent()) {
                    observe("notifier " + type.getSimpleName(), Duration.between(in.get(), next.get()));
                }
            }
        }
    }

    private final Map<String, List<Duration>> observed = new LinkedHashMap<>();

    private void observe(String stage, Duration took) {
        List<Duration> list = observed.computeIfAbsent(stage, k -> new ArrayList<>());
        list.add(max(FLOOR, took));
        if (list.size() > 5) {
            list.remove(0);
        }
        windows.put(stage, list.stream().min(Comparator.naturalOrder()).orElseThrow());
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    /**
     * The processes a kill of {@code process} hits, from the stack's records: that service, the broker, or for
     * {@code stack} the whole infrastructure but the broker (the stack host and the registry, separate processes).
     */
    static List<LocalStack.StackProcess> victims(String process, List<LocalStack.StackProcess> recorded) {
        List<LocalStack.StackProcess> hit = recorded.stream().filter(p -> switch (process) {
            case "broker" -> p.kind() == LocalStack.Kind.BROKER;
            case "stack" -> p.kind() == LocalStack.Kind.STACK_HOST || p.kind() == LocalStack.Kind.REGISTRY;
            default -> p.kind() == LocalStack.Kind.SERVICE && p.name().equals(process);
        }).toList();
        if (hit.isEmpty()) {
            throw new IllegalStateException("the stack has no record of " + process + ": nothing to kill");
        }
        return hit;
    }

    /**
     * Kills ({@code SIGKILL}, with their children) the target's processes, all at once, after checking that each is a
     * live process of this stack (not a zombie, its command line naming our data directory): what was killed, and when
     * the signals were sent (a record stamped before then was written before the kill).
     *
     * @throws IllegalStateException when one is not a live process of ours (nothing is killed then), or survives
     */
    private Kill kill(String process) {
        List<LocalStack.StackProcess> victims = victims(process, stack.processes());
        for (LocalStack.StackProcess v : victims) {
            if (!LocalStack.alive(v.pid()) || !stack.ours(v.pid())) {
                throw new IllegalStateException(v.name() + " (pid " + v.pid() + ") is not a live process of this "
                        + "stack before the kill");
            }
        }
        for (LocalStack.StackProcess v : victims) {
            ProcessHandle.of(v.pid()).ifPresent(h -> {
                h.descendants().forEach(ProcessHandle::destroyForcibly);
                h.destroyForcibly(); // SIGKILL: kill -9
            });
        }
        Instant at = Instant.now();
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        for (LocalStack.StackProcess v : victims) {
            while (LocalStack.alive(v.pid())) {
                if (System.nanoTime() > until) {
                    throw new IllegalStateException(v.name() + " (pid " + v.pid() + ") survived kill -9");
                }
                pause(20);
            }
        }
        return new Kill(victims.stream().map(LocalStack.StackProcess::name).toList(), at);
    }

    private record Kill(List<String> names, Instant at) {
    }

    private static String line(RunResult r, Duration took) {
        String what = r.target() == null
                ? "warm-up, no kill"
                : "kill " + (r.replicas() > 1 && r.killed().size() == 1
                        ? r.killed().get(0) + " (1 of " + r.replicas() + " " + r.target().process() + " replicas)"
                        : r.target().toString())
                        + (r.killAfterInputMs() == null
                                ? " — " + r.input()
                                : String.format(" +%d ms after %s (window %d ms, %s)", r.killAfterInputMs(), r.input(),
                                        r
                                                .window().toMillis(),
                                        r.midWork() ? "mid-work" : "after its output"));
        return String.format("run %-3s %s  %s%s  -> %s  takeover %s  (%.1f s)  violations: %s", r.index() < 0
                ? "w" + -r.index()
                : Integer.toString(r.index()), r.runId(), what,
                r.restart() == null
                        ? ""
                        : String.format("; up%s restarted %s in %.1f s", r.replicas() > 1 ? " after the run" : "", r
                                .restarted().isEmpty()
                                        ? "nothing"
                                        : String.join(", ", r.restarted()),
                                r.restart().toMillis() / 1000.0),
                r.outcome(), r
                        .takeover() == null ? "-" : String.format("%.2f s", r.takeover().toMillis() / 1000.0),
                took.toMillis() / 1000.0, r.violations().isEmpty() ? "none" : r.violations().toString());
    }

    private void printTotals(Summary s) {
        List<RunResult> killed = s.runs().stream().filter(r -> r.killAfterInputMs() != null).toList();
        out.println();
        out.println("Totals");
        out.printf("  runs          %d (+ %d warm-up)%s%s%n", s.runs().stream().filter(r -> r.index() > 0).count(),
                s.runs().stream().filter(r -> r.index() < 0).count(), s.aborted() ? ", ABORTED" : "", s.overBudget()
                        ? ", OUT OF TIME"
                        : "");
        out.printf("  kills         %d, %d mid-work; mid-work by process %s%n", killed.size(), killed.stream()
                .filter(RunResult::midWork).count(), s.midWorkKills());
        Map<String, Long> outcomes = new LinkedHashMap<>();
        s.runs().forEach(r -> outcomes.merge(r.outcome(), 1L, Long::sum));
        out.printf("  outcomes      %s%n", outcomes);
        List<Duration> t = s.takeovers();
        out.printf("  takeover      %s%n", t.isEmpty()
                ? "-"
                : String.format("p50 %.2f s, p95 %.2f s, max %.2f s (%d kills with a next event)", pct(t, 50), pct(
                        t, 95), pct(t, 100), t.size()));
        List<Duration> restarts = killed.stream().map(RunResult::restart).filter(d -> d != null).sorted().toList();
        if (!restarts.isEmpty()) {
            out.printf("  restart (up)  p50 %.1f s, max %.1f s%n", pct(restarts, 50), pct(restarts, 100));
        }
        Map<String, Long> byRule = new LinkedHashMap<>();
        s.runs().forEach(r -> r.violations().forEach(v -> byRule.merge(v.rule().name(), 1L, Long::sum)));
        s.lateViolations().forEach(l -> out.println("  late violation " + l));
        out.printf("  violations    %d%s%n", s.violationCount(), byRule.isEmpty()
                ? ""
                : " " + byRule + (s
                        .lateViolations().isEmpty() ? "" : " + " + s.lateViolations().size() + " late"));
    }

    /** Nearest-rank percentile of sorted durations, in seconds. */
    static double pct(List<Duration> sorted, int p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1))).toMillis() / 1000.0;
    }

    private static void sleepUntil(Instant at) {
        long ms = Duration.between(Instant.now(), at).toMillis();
        if (ms > 0) {
            pause(ms);
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
