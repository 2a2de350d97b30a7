package dev.conveyor.local;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import dev.conveyor.testkit.Binaries;
import dev.conveyor.testkit.kafka.KafkaBrokerProcess;
import dev.conveyor.testkit.registry.BaseImages;
import dev.conveyor.testkit.registry.OciRegistry;

/**
 * Starts, supervises, inspects and stops the local stack. Every part is a process of its own, detached from the
 * terminal ({@code setsid}) so that the stack outlives the command that started it: the Kafka broker, the OCI registry,
 * the stack host (git daemon, Kubernetes API stand-in, notification stubs; see {@link StackHost}) and every service.
 * Each keeps the port chosen at its first start ({@code ports.properties}) and its data under the data directory, so
 * a restarted part is where it was and holds what it held. What runs is recorded in {@code processes.properties};
 * {@link #down} stops exactly that.
 *
 * <p>
 * {@link #ensureUp} is the supervisor: liveness is judged by health and port, never by a pid alone (a process killed
 * with {@code kill -9} stays a zombie until it is reaped, and a zombie has a pid but serves nothing).
 */
public final class LocalStack {

    /** Ports the services prefer (their own defaults) at the first start; a taken port is replaced by a free one. */
    static final Map<String, Integer> PREFERRED_PORTS = Map.of("gateway", 8080, "versioner", 8081, "image-builder",
            8082, "manifest-renderer", 8083, "promoter", 8084, "flux-sync", 8086, "notifier", 8087);

    /** The stack host: git daemon, API stand-in and notification stubs in one JVM. */
    public static final String STACK_HOST = "stack-host";
    /** The Kafka broker. */
    public static final String KAFKA = "kafka";
    /** The OCI registry. */
    public static final String REGISTRY = "registry";

    /** How long a process {@code up} started may take to become healthy. */
    static final Duration START_TIMEOUT = Duration.ofSeconds(240);
    /** How long a process that was already running but unhealthy may take to recover before it is killed. */
    static final Duration UNHEALTHY_GRACE = Duration.ofSeconds(60);
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration KILL_TIMEOUT = Duration.ofSeconds(15);

    private Path projectDir;
    private Path aotDir;
    private final StackLayout layout;
    private final String classpath;
    private final PrintStream out;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(PROBE_TIMEOUT).build();
    private boolean withoutRegistry;
    private Integer requestedReplicas;
    private ServiceJvm serviceJvm;
    private List<String> serviceJvmOptions = SERVICE_JVM_OPTIONS;

    /**
     * @param projectDir the Conveyor checkout (services run from {@code <module>/target/quarkus-app})
     * @param dataDir the stack's data directory
     * @param classpath the classpath of the stack host and broker JVMs (this module and its dependencies)
     * @param out where progress goes
     */
    public LocalStack(Path projectDir, Path dataDir, String classpath, PrintStream out) {
        this.projectDir = projectDir.toAbsolutePath().normalize();
        this.layout = new StackLayout(dataDir);
        this.classpath = classpath;
        this.out = out;
        this.serviceJvm = ServiceJvm.fromEnvironment(System.getenv());
        this.aotDir = Optional.ofNullable(System.getenv("CONVEYOR_AOT_DIR")).filter(d -> !d.isBlank()).map(d -> Path
                .of(d).toAbsolutePath().normalize()).orElse(null);
    }

    /**
     * Runs the services on another JVM than {@code $CONVEYOR_JAVA} names (benchmarks, tests): with {@code aot}, each
     * service gets its cache ({@link ServiceJvm}: an AOT cache on JDK 25+, a dynamic CDS archive before).
     */
    LocalStack withServiceJvm(ServiceJvm jvm) {
        this.serviceJvm = jvm;
        return this;
    }

    /**
     * Runs the services of another build ({@code <module>/target/quarkus-app} under {@code projectDir}), with their AOT
     * caches in {@code aotDir}; for benchmarks that compare two builds on one stack (a training start deletes the
     * service's other caches in its directory, so each build needs its own).
     */
    LocalStack withServiceBuilds(Path projectDir, Path aotDir) {
        this.projectDir = projectDir.toAbsolutePath().normalize();
        this.aotDir = aotDir;
        return this;
    }

    /** Replaces the services' JVM options ({@link #SERVICE_JVM_OPTIONS}); for benchmarks. */
    LocalStack withServiceJvmOptions(List<String> options) {
        this.serviceJvmOptions = List.copyOf(options);
        return this;
    }

    /** The JVM the services run on. */
    ServiceJvm serviceJvm() {
        return serviceJvm;
    }

    /**
     * Runs the stack without an OCI registry even where docker-registry is installed (what the fallback does). Only
     * matters at the stack's first start: the choice is recorded in {@code ports.properties} (a {@code registry} port
     * or none) and kept.
     */
    public LocalStack withoutRegistry() {
        this.withoutRegistry = true;
        return this;
    }

    /**
     * Runs {@code n} processes of every service ({@code up --replicas n}), but one of each
     * {@link ServiceSpec#SINGLE_INSTANCE} service. Recorded in {@code replicas.properties} by the next
     * {@link #ensureUp} and kept by later ones until another {@code withReplicas}; fewer than before stops the extra
     * processes.
     */
    public LocalStack withReplicas(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("--replicas must be at least 1, was " + n);
        }
        this.requestedReplicas = n;
        return this;
    }

    /**
     * How many processes of each service run: those of {@link #withReplicas}, else those recorded by the latest
     * {@code --replicas}, else one.
     */
    public Map<String, Integer> replicaCounts() {
        Map<String, String> recorded = layout.replicas();
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (ServiceSpec s : ServiceSpec.ALL) {
            int wanted = requestedReplicas != null
                    ? requestedReplicas
                    : Integer.parseInt(recorded.getOrDefault(s.name(), "1").trim());
            counts.put(s.name(), s.replicas(wanted));
        }
        return counts;
    }

    public StackLayout layout() {
        return layout;
    }

    /** What a running stack offers: infrastructure endpoints, service ports, tokens. */
    public record Running(Map<String, String> stack, Map<String, Integer> ports, Map<String, String> secrets,
            Map<String, Long> startMillis) {

        public String gatewayUrl() {
            return "http://127.0.0.1:" + ports.get("gateway");
        }

        public String serviceUrl(String service) {
            return "http://127.0.0.1:" + ports.get(service);
        }

        /** The processes of a service that run, by replica: {@code versioner}, {@code versioner-2}, ... */
        public List<String> replicas(String service) {
            ServiceSpec spec = ServiceSpec.named(service);
            List<String> names = new ArrayList<>();
            for (int i = 1; ports.containsKey(spec.replicaName(i)); i++) {
                names.add(spec.replicaName(i));
            }
            return names;
        }

        /** The same stack seen through another gateway replica: its {@link #gatewayUrl()} is that replica's. */
        public Running via(String gatewayReplica) {
            if (!ports.containsKey(gatewayReplica)) {
                throw new IllegalArgumentException("no gateway replica " + gatewayReplica);
            }
            Map<String, Integer> p = new LinkedHashMap<>(ports);
            p.put("gateway", ports.get(gatewayReplica));
            return new Running(stack, p, secrets, startMillis);
        }
    }

    /** What a process of the stack is. */
    public enum Kind {
        /** One of the seven Conveyor services. */
        SERVICE,
        /** The Kafka broker ({@value LocalStack#KAFKA}). */
        BROKER,
        /** The OCI registry ({@value LocalStack#REGISTRY}). */
        REGISTRY,
        /** The stack host ({@value LocalStack#STACK_HOST}): git daemon, API stand-in, notification stubs. */
        STACK_HOST
    }

    /**
     * A process the stack started, as {@code processes.properties} records it.
     *
     * @param name {@value #STACK_HOST}, {@value #KAFKA}, {@value #REGISTRY} or a service's name
     * @param pid the operating-system process id of its latest start (it may have died since)
     * @param port its main port: the service's HTTP port, the broker's client port, the registry's port, the git
     *     daemon's port for the stack host
     */
    public record StackProcess(String name, Kind kind, long pid, int port) {
    }

    /**
     * What one {@link #ensureUp} did.
     *
     * @param running the stack, every part healthy
     * @param restarted the processes it started because they were not healthy (dead, or killed after
     *     {@link #UNHEALTHY_GRACE}), in start order; empty when everything was healthy already
     * @param killed the processes it found alive but unhealthy for too long and killed before starting them again
     * @param readyAfter for each restarted process, the time from its start to its first healthy probe
     * @param changed the running processes it restarted because their build or configuration differed from what they
     *     were started with (also in {@code restarted}), each with the reason
     */
    public record Supervision(Running running, List<String> restarted, List<String> killed,
            Map<String, Duration> readyAfter, Map<String, String> changed) {
    }

    /** Thrown by {@link #ensureUp} when something is still down after its wait; {@link #down()} names what. */
    public static final class StackDownException extends IllegalStateException {

        private static final long serialVersionUID = 1L;
        private final transient List<String> down;

        StackDownException(List<String> down, List<String> reasons) {
            super("still down after up: " + String.join(", ", down) + "\n  " + String.join("\n  ", reasons));
            this.down = List.copyOf(down);
        }

        /** The names of the processes that are not healthy. */
        public List<String> down() {
            return down;
        }
    }

    /**
     * The processes the stack started, in supervision order (stack host, broker, registry, services), with the pid of
     * each one's latest start; after an {@link #ensureUp} that restarted something, the new pids.
     */
    public List<StackProcess> processes() {
        Map<String, String> procs = layout.processes();
        List<StackProcess> list = new ArrayList<>();
        for (String name : order(procs, replicaCounts())) {
            String pid = procs.get(name + ".pid");
            if (pid != null) {
                list.add(new StackProcess(name, Kind.valueOf(procs.getOrDefault(name + ".kind", kindOf(name)
                        .name())), Long.parseLong(pid), Integer.parseInt(procs.getOrDefault(name + ".port", "0"))));
            }
        }
        return list;
    }

    /** Whether every part of the stack answers its health check. */
    public boolean isUp() {
        Optional<Map<String, String>> stack = layout.readStack();
        if (stack.isEmpty() || layout.ports().isEmpty()) {
            return false;
        }
        Map<String, Integer> ports = ports(layout.ports());
        return members(ports, stack.get(), Map.of(), Optional.empty(), replicaCounts()).stream().allMatch(
                this::upHere);
    }

    /**
     * Healthy, and the health answer comes from the process this stack started: a dead service's port answered by
     * another program (a second stack, a leftover of this one) is not the service. Only infrastructure without a
     * recorded pid (a registry the stack host runs as its child) is judged by its answer alone.
     */
    private boolean upHere(Member m) {
        long pid = recordedPid(m.name());
        boolean ownProcess = pid > 0 ? alive(pid) && ours(pid) : m.kind() != Kind.SERVICE;
        return ownProcess && m.healthy().getAsBoolean();
    }

    /**
     * Starts whatever is not healthy and waits until all is; safe to rerun. Equivalent to
     * {@code ensureUp(kubeconfig).running()}.
     *
     * @param kubeconfig a real cluster to deploy to, instead of the API stand-in
     * @throws StackDownException when something is still down after the wait
     */
    public Running up(Optional<Path> kubeconfig) {
        return ensureUp(kubeconfig).running();
    }

    /**
     * The supervisor, what {@code ./conveyor up} runs: brings every part of the stack to health and says what it
     * restarted. In two phases, infrastructure (broker, registry, stack host) first, then the services; in each
     * phase, every process is probed (a service: {@code GET /q/health/ready} answers 200; the broker: a metadata
     * request; the registry: {@code GET /v2/} answers 200; the stack host: its git port accepts, the API stand-in
     * serves namespace {@code conveyor}, the stubs' admin API answers):
     * <ul>
     * <li>healthy: left alone;</li>
     * <li>not healthy and its recorded process dead (gone, or a zombie): started again, on its recorded port;</li>
     * <li>not healthy but its process alive: given {@link #UNHEALTHY_GRACE} to recover (a service waits for a broker
     * that just came back), then killed ({@code SIGKILL}, with its children) and started again.</li>
     * </ul>
     * A process it started gets {@link #START_TIMEOUT} to become healthy. A recorded port held by another program is
     * not taken over: that process stays down and is named. {@code processes.properties} is rewritten as soon as a
     * process is started, so its pids are current while this method still waits. Services are not restarted because
     * the infrastructure was: they find the broker, registry and git daemon on the same ports.
     *
     * <p>
     * For chaos tests (same module): kill any pid of {@link #processes()}, call this, and compare
     * {@link Supervision#restarted()} and the ports of {@link Supervision#running()} with those before.
     *
     * @param kubeconfig a real cluster to deploy to, instead of the API stand-in
     * @throws StackDownException naming every process still down after the wait (the infrastructure's failure stops
     *     the services' phase from running)
     */
    public Supervision ensureUp(Optional<Path> kubeconfig) {
        for (ServiceSpec s : ServiceSpec.ALL) {
            if (!Files.isRegularFile(s.runJar(projectDir))) {
                throw new IllegalStateException("service " + s.name() + " is not built: " + s.runJar(projectDir)
                        + " is missing (run ./mvnw -B package -DskipTests, or ./conveyor, which builds what is missing)");
            }
        }
        try {
            Files.createDirectories(layout.logsDir());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> secrets = ensureSecrets();
        Map<String, Integer> counts = replicaCounts();
        if (requestedReplicas != null) {
            Map<String, String> record = new LinkedHashMap<>();
            counts.forEach((k, v) -> record.put(k, Integer.toString(v)));
            if (!record.equals(new LinkedHashMap<>(layout.replicas())) && !(layout.replicas().isEmpty() && counts
                    .values().stream().allMatch(n -> n == 1))) {
                layout.writeReplicas(record);
            }
        }
        Map<String, Integer> ports = assignPorts(kubeconfig.isEmpty(), counts);
        Map<String, String> stack = endpoints(ports, kubeconfig);

        Outcome infra = supervise(members(ports, stack, secrets, kubeconfig, counts).stream().filter(m -> m
                .kind() != Kind.SERVICE).toList());
        if (!infra.down().isEmpty()) {
            throw new StackDownException(infra.down(), infra.reasons());
        }
        seedBaseImage(stack);
        layout.writeStack(stack);
        if (new SampleApp(layout).init()) {
            out.printf("  sample repositories   %s%s, %s%s%n", stack.get(StackLayout.GIT), SampleApp.APP_REPO,
                    stack.get(StackLayout.GIT), SampleApp.GITOPS_REPO);
        }
        // the benchmark's many apps (opt-in: AppFleet.seed before up): topics with several partitions, made before
        // the services would create them with one
        AppFleet.of(layout).ifPresent(f -> f.ensureTopics(stack.get(StackLayout.KAFKA)));
        Outcome services = supervise(members(ports, stack, secrets, kubeconfig, counts).stream().filter(m -> m
                .kind() == Kind.SERVICE).toList());
        scaleDown(counts);
        if (!services.down().isEmpty()) {
            throw new StackDownException(services.down(), services.reasons());
        }

        Map<String, String> procs = layout.processes();
        Map<String, Integer> servicePorts = new LinkedHashMap<>();
        Map<String, Long> startMillis = new LinkedHashMap<>();
        for (ServiceSpec s : ServiceSpec.ALL) {
            for (String r : s.replicaNames(counts.get(s.name()))) {
                servicePorts.put(r, ports.get(r));
                Optional.ofNullable(procs.get(r + ".start-ms")).ifPresent(v -> startMillis.put(r, Long.parseLong(
                        v)));
            }
        }
        List<String> restarted = new ArrayList<>(infra.restarted());
        restarted.addAll(services.restarted());
        List<String> killed = new ArrayList<>(infra.killed());
        killed.addAll(services.killed());
        Map<String, Duration> readyAfter = new LinkedHashMap<>(infra.readyAfter());
        readyAfter.putAll(services.readyAfter());
        Map<String, String> changed = new LinkedHashMap<>(infra.changed());
        changed.putAll(services.changed());
        return new Supervision(new Running(stack, servicePorts, secrets, startMillis), List.copyOf(restarted), List
                .copyOf(killed), Map.copyOf(readyAfter), Map.copyOf(changed));
    }

    /**
     * Stops the processes of replicas beyond {@code counts} (after {@code --replicas} asked for fewer) and forgets
     * them; their ports stay recorded for a later {@code --replicas}.
     */
    private void scaleDown(Map<String, Integer> counts) {
        Map<String, String> procs = new LinkedHashMap<>(layout.processes());
        boolean changed = false;
        for (String name : order(procs, counts)) {
            Optional<Map.Entry<ServiceSpec, Integer>> replica = ServiceSpec.ofReplica(name);
            if (replica.isEmpty() || replica.get().getValue() <= counts.get(replica.get().getKey().name())) {
                continue;
            }
            String pid = procs.get(name + ".pid");
            if (pid != null && alive(Long.parseLong(pid)) && ours(Long.parseLong(pid))) {
                terminate(Long.parseLong(pid));
                out.printf("  %-20s  stopped (pid %s): %d replica(s) of %s asked for%n", name, pid, counts.get(replica
                        .get().getKey().name()), replica.get().getKey().name());
            }
            procs.keySet().removeIf(k -> k.startsWith(name + "."));
            changed = true;
        }
        if (changed) {
            layout.writeProcesses(procs);
        }
    }

    /** The running stack, if it is up. */
    public Optional<Running> running() {
        if (!isUp()) {
            return Optional.empty();
        }
        Map<String, String> procs = layout.processes();
        Map<String, Integer> ports = ports(layout.ports());
        Map<String, Integer> servicePorts = new LinkedHashMap<>();
        Map<String, Long> startMillis = new LinkedHashMap<>();
        Map<String, Integer> counts = replicaCounts();
        for (ServiceSpec s : ServiceSpec.ALL) {
            for (String r : s.replicaNames(counts.get(s.name()))) {
                servicePorts.put(r, ports.get(r));
                Optional.ofNullable(procs.get(r + ".start-ms")).ifPresent(v -> startMillis.put(r, Long.parseLong(
                        v)));
            }
        }
        return layout.readStack().map(stack -> new Running(stack, servicePorts, layout.secrets(), startMillis));
    }

    // ---- supervision

    /**
     * A supervised process: how to tell it is healthy and how to start it; for a service, also what it would be started
     * with now ({@code plan}, null for the infrastructure), to tell whether the running one is out of date.
     */
    private record Member(String name, Kind kind, List<Integer> ports, BooleanSupplier healthy,
            Supplier<Process> launcher, Supplier<ServiceLaunch> plan) {

        Member(String name, Kind kind, List<Integer> ports, BooleanSupplier healthy, Supplier<Process> launcher) {
            this(name, kind, ports, healthy, launcher, null);
        }
    }

    /** How a service process is started: command, working directory, added environment and configuration. */
    record ServiceLaunch(List<String> command, Path dir, Path log, Map<String, String> env,
            Map<String, String> config, Path configFile, Path appDir) {

        /** Of the command without its cache options: a training run is not restarted once its cache exists. */
        String launchDigest() {
            return ProcessFingerprint.launch(ServiceJvm.withoutAot(command), env, config);
        }

        /** Whether this start trains the service's cache (written when the JVM exits). */
        boolean trainsCache() {
            return ServiceJvm.training(command);
        }
    }

    /** What {@link #supervise} did in one phase. */
    private record Outcome(List<String> restarted, List<String> killed, Map<String, Duration> readyAfter,
            List<String> down, List<String> reasons, Map<String, String> changed) {
    }

    /** A process {@link #supervise} waits for: started by it, or found alive but unhealthy. */
    private static final class Watch {
        final Member member;
        long pid;
        long deadline;
        long began;
        boolean startedHere;

        Watch(Member member) {
            this.member = member;
        }
    }

    private Outcome supervise(List<Member> members) {
        List<String> restarted = new ArrayList<>();
        List<String> killed = new ArrayList<>();
        Map<String, Duration> readyAfter = new LinkedHashMap<>();
        List<String> down = new ArrayList<>();
        List<String> reasons = new ArrayList<>();
        Map<String, String> changed = new LinkedHashMap<>();
        List<Watch> waiting = new ArrayList<>();
        for (Member m : members) {
            long pid = recordedPid(m.name());
            boolean running = pid > 0 && alive(pid) && ours(pid);
            Optional<String> stale = running ? staleness(m) : Optional.empty();
            if (stale.isEmpty() && upHere(m)) {
                continue;
            }
            Watch w = new Watch(m);
            if (stale.isPresent()) {
                // Out of date: what runs is not what up would start now (rebuilt, or configured differently).
                out.printf("  %-20s  restarting (pid %d): %s%n", m.name(), pid, stale.get());
                terminate(pid);
                changed.put(m.name(), stale.get());
                Optional<String> failure = start(m, w);
                if (failure.isPresent()) {
                    down.add(m.name());
                    reasons.add(m.name() + ": " + failure.get());
                    continue;
                }
                restarted.add(m.name());
            } else if (running) {
                w.pid = pid;
                w.deadline = System.nanoTime() + UNHEALTHY_GRACE.toNanos();
                out.printf("  %-20s  running (pid %d) but not healthy; waiting up to %d s before restarting it%n",
                        m.name(), pid, UNHEALTHY_GRACE.toSeconds());
            } else {
                Optional<String> failure = start(m, w);
                if (failure.isPresent()) {
                    down.add(m.name());
                    reasons.add(m.name() + ": " + failure.get());
                    continue;
                }
                restarted.add(m.name());
            }
            waiting.add(w);
        }
        while (!waiting.isEmpty()) {
            for (Watch w : List.copyOf(waiting)) {
                Member m = w.member;
                if (w.startedHere && !alive(w.pid)) {
                    // Checked first: once the process we started has exited, whatever answers on its port is not it.
                    waiting.remove(w);
                    down.add(m.name());
                    reasons.add(m.name() + ": exited while starting; last lines of " + logOf(m) + ":\n" + tail(logOf(
                            m), 30));
                } else if (m.healthy().getAsBoolean()) {
                    waiting.remove(w);
                    if (w.startedHere) {
                        Duration took = Duration.ofNanos(System.nanoTime() - w.began);
                        readyAfter.put(m.name(), took);
                        recordReady(m.name(), took);
                        out.printf("  %-20s  %s  ready in %.1f s (pid %d%s)%n", m.name(), address(m), took.toMillis()
                                / 1000.0, w.pid,
                                m.kind() == Kind.SERVICE
                                        ? quarkusStart(layout.log(m.name())).map(
                                                q -> ", Quarkus started in " + q).orElse("") + jvmNote(m.name())
                                        : "");
                    }
                } else if (System.nanoTime() > w.deadline) {
                    if (!w.startedHere) {
                        out.printf("  %-20s  unhealthy for %d s: killing pid %d and starting it again%n", m.name(),
                                UNHEALTHY_GRACE.toSeconds(), w.pid);
                        kill(w.pid);
                        killed.add(m.name());
                        Optional<String> failure = start(m, w);
                        if (failure.isPresent()) {
                            waiting.remove(w);
                            down.add(m.name());
                            reasons.add(m.name() + ": " + failure.get());
                        } else {
                            restarted.add(m.name());
                        }
                    } else {
                        waiting.remove(w);
                        down.add(m.name());
                        reasons.add(m.name() + ": not healthy " + START_TIMEOUT.toSeconds() + " s after its start (pid "
                                + w.pid + "); see " + logOf(m));
                    }
                }
            }
            if (!waiting.isEmpty()) {
                pause(200);
            }
        }
        return new Outcome(restarted, killed, readyAfter, down, reasons, changed);
    }

    /**
     * Why a running service must be restarted: its build or how it would be launched now differs from the fingerprint
     * recorded at its start ({@link ProcessFingerprint}); empty when it is current, and always for the infrastructure.
     */
    private Optional<String> staleness(Member m) {
        if (m.plan() == null) {
            return Optional.empty();
        }
        ServiceLaunch plan = m.plan().get();
        Map<String, String> procs = layout.processes();
        Path build = plan.appDir();
        return ProcessFingerprint.staleReason(procs.get(m.name() + ".build"), procs.get(m.name() + ".launch"),
                ProcessFingerprint.build(build), plan.launchDigest(), StackLayout.read(plan.configFile()), plan
                        .config(),
                build.startsWith(projectDir) ? projectDir.relativize(build).toString() : build.toString());
    }

    /** Starts a member on its recorded ports, or says why it cannot. */
    private Optional<String> start(Member m, Watch w) {
        for (int port : m.ports()) {
            Optional<String> taken = awaitFree(port);
            if (taken.isPresent()) {
                return Optional.of("port " + port + " (recorded in " + layout.portsFile() + ") " + taken.get()
                        + "; stop that program, or delete the line with " + port + " from " + layout.portsFile()
                        + " (a new port breaks the git URLs of runs in flight)");
            }
        }
        Process p;
        ServiceLaunch plan = null;
        try {
            if (m.plan() == null) {
                p = m.launcher().get();
            } else {
                plan = m.plan().get();
                p = startService(plan);
            }
        } catch (RuntimeException e) {
            return Optional.of("cannot start: " + e.getMessage());
        }
        w.pid = p.pid();
        w.began = System.nanoTime();
        w.deadline = w.began + START_TIMEOUT.toNanos();
        w.startedHere = true;
        recordStart(m, p.pid(), plan);
        return Optional.empty();
    }

    /**
     * Waits briefly for a port to be free (a process just killed may still hold it for a moment); empty when it is,
     * else what holds it.
     */
    private Optional<String> awaitFree(int port) {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!free(port)) {
            if (System.nanoTime() > deadline) {
                return Optional.of("is in use by another program");
            }
            pause(100);
        }
        return Optional.empty();
    }

    private List<Member> members(Map<String, Integer> ports, Map<String, String> stack, Map<String, String> secrets,
            Optional<Path> kubeconfig, Map<String, Integer> counts) {
        List<Member> members = new ArrayList<>();
        boolean standIn = "stand-in".equals(stack.get(StackLayout.KUBE_KIND));
        int git = ports.get("git");
        int stubs = ports.get("stubs");
        List<Integer> hostPorts = new ArrayList<>(List.of(git, stubs));
        if (standIn) {
            hostPorts.add(ports.get("kube"));
        }
        members.add(new Member(STACK_HOST, Kind.STACK_HOST, hostPorts, () -> accepts(git) && httpOk(
                "http://127.0.0.1:" + stubs + "/__admin/mappings")
                && (!standIn || httpOk("http://127.0.0.1:" + ports
                        .get("kube") + "/api/v1/namespaces/conveyor")),
                () -> startHost(ports, kubeconfig)));
        int kafka = ports.get(KAFKA);
        members.add(new Member(KAFKA, Kind.BROKER, List.of(kafka, ports.get("kafka-controller")),
                () -> KafkaBrokerProcess.serves("127.0.0.1:" + kafka, PROBE_TIMEOUT), () -> startBroker(ports)));
        if (ports.containsKey(REGISTRY)) {
            int registry = ports.get(REGISTRY);
            members.add(new Member(REGISTRY, Kind.REGISTRY, List.of(registry), () -> httpOk("http://127.0.0.1:"
                    + registry + "/v2/"), () -> startRegistry(registry)));
        }
        for (ServiceSpec s : ServiceSpec.ALL) {
            for (int i = 1; i <= counts.get(s.name()); i++) {
                int replica = i;
                Integer port = ports.get(s.replicaName(i));
                if (port == null) {
                    continue; // no port recorded yet: not started by up yet
                }
                Supplier<ServiceLaunch> plan = () -> serviceLaunch(s, replica, stack, ports, secrets);
                members.add(new Member(s.replicaName(i), Kind.SERVICE, List.of(port), () -> httpOk(
                        "http://127.0.0.1:" + port + "/q/health/ready"), () -> startService(plan.get()), plan));
            }
        }
        return members;
    }

    // ---- ports and endpoints

    /**
     * The port of every process: read from {@code ports.properties}, missing ones chosen now (the services' preferred
     * ports when free, else free ports) and recorded.
     */
    private Map<String, Integer> assignPorts(boolean standIn, Map<String, Integer> counts) {
        Map<String, String> recorded = new LinkedHashMap<>(layout.ports());
        boolean first = recorded.isEmpty();
        List<String> names = new ArrayList<>(List.of(KAFKA, "kafka-controller", "git", "stubs"));
        if (standIn) {
            names.add("kube");
        }
        // The registry is part of the stack from its first start on, or never: the services' configuration (image
        // and chart destinations) depends on it.
        if (first && !withoutRegistry && Binaries.find("docker-registry").isPresent()) {
            names.add(REGISTRY);
        }
        if (recorded.containsKey(REGISTRY) && Binaries.find("docker-registry").isEmpty()) {
            throw new IllegalStateException("this stack was started with an OCI registry, but docker-registry is no "
                    + "longer installed; install it, or start afresh with ./conveyor down --purge");
        }
        ServiceSpec.ALL.forEach(s -> names.addAll(s.replicaNames(counts.get(s.name()))));
        boolean changed = false;
        for (String name : names) {
            if (!recorded.containsKey(name)) {
                Integer preferred = PREFERRED_PORTS.get(name);
                recorded.put(name, Integer.toString(port(preferred, ports(recorded))));
                changed = true;
            }
        }
        if (changed) {
            layout.writePorts(recorded);
        }
        return ports(recorded);
    }

    private static Map<String, Integer> ports(Map<String, String> recorded) {
        Map<String, Integer> ports = new LinkedHashMap<>();
        recorded.forEach((k, v) -> ports.put(k, Integer.parseInt(v.trim())));
        return ports;
    }

    private Map<String, String> endpoints(Map<String, Integer> ports, Optional<Path> kubeconfig) {
        Map<String, String> stack = new LinkedHashMap<>();
        stack.put(StackLayout.KAFKA, "127.0.0.1:" + ports.get(KAFKA));
        if (ports.containsKey(REGISTRY)) {
            String host = "127.0.0.1:" + ports.get(REGISTRY);
            stack.put(StackLayout.REGISTRY, host);
            stack.put(StackLayout.BASE_IMAGE, host + "/" + BaseImages.REPOSITORY + ":" + BaseImages.TAG);
        } else {
            // No registry: images go to an OCI image layout, built from a base image tarball; charts go to a chart
            // repository kept in git.
            stack.put(StackLayout.IMAGE_LAYOUT, layout.imagesDir().resolve("layout").toString());
            stack.put(StackLayout.BASE_IMAGE, "docker-archive:" + layout.imagesDir().resolve("base-image.tar"));
        }
        stack.put(StackLayout.GIT, "git://127.0.0.1:" + ports.get("git") + "/");
        if (kubeconfig.isPresent()) {
            stack.put(StackLayout.KUBECONFIG, kubeconfig.get().toAbsolutePath().toString());
            stack.put(StackLayout.KUBE_KIND, "cluster");
        } else {
            stack.put(StackLayout.KUBECONFIG, layout.kubeconfig().toString());
            stack.put(StackLayout.KUBE_KIND, "stand-in");
            stack.put(StackLayout.KUBE_URL, "http://127.0.0.1:" + ports.get("kube"));
        }
        stack.put(StackLayout.STUBS, "http://127.0.0.1:" + ports.get("stubs"));
        return stack;
    }

    /** The base image the services build on: pushed to the registry, or written as a tarball, unless it is there. */
    private void seedBaseImage(Map<String, String> stack) {
        String registry = stack.get(StackLayout.REGISTRY);
        if (registry != null) {
            if (!httpOk("http://" + registry + "/v2/" + BaseImages.REPOSITORY + "/manifests/" + BaseImages.TAG)) {
                long t = System.nanoTime();
                BaseImages.seed(registry, Optional.empty());
                out.printf("  %-20s  %s pushed (%d ms)%n", "base image", stack.get(StackLayout.BASE_IMAGE),
                        Duration.ofNanos(System.nanoTime() - t).toMillis());
            }
            return;
        }
        Path tar = layout.imagesDir().resolve("base-image.tar");
        if (!Files.exists(tar)) {
            try {
                Files.createDirectories(layout.imagesDir());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            BaseImages.seedTar(tar);
            out.printf("  %-20s  none (%s): images go to the OCI image layout %s, charts to the git chart repository "
                    + "%s%s%n", "registry", withoutRegistry ? "--no-registry" : "not part of this stack",
                    stack.get(StackLayout.IMAGE_LAYOUT), stack.get(StackLayout.GIT), SampleApp.CHARTS_REPO);
        }
    }

    // ---- starting each kind

    private Process startHost(Map<String, Integer> ports, Optional<Path> kubeconfig) {
        List<String> command = new ArrayList<>(detached());
        command.addAll(List.of(java(), "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classpath,
                StackHost.class.getName(), layout.root().toString(), "--git-port=" + ports.get("git"),
                "--stubs-port=" + ports.get("stubs")));
        if (kubeconfig.isPresent()) {
            command.add(kubeconfig.get().toAbsolutePath().toString());
        } else {
            command.add("--kube-port=" + ports.get("kube"));
        }
        return launch(command, layout.root(), layout.log("stack"), Map.of());
    }

    private Process startBroker(Map<String, Integer> ports) {
        List<String> command = new ArrayList<>(detached());
        command.addAll(KafkaBrokerProcess.prepare(layout.kafkaDir(), ports.get(KAFKA), ports.get("kafka-controller"),
                classpath, Duration.ofSeconds(90)));
        return launch(command, layout.kafkaDir(), layout.kafkaDir().resolve("broker.log"), Map.of());
    }

    private Process startRegistry(int port) {
        List<String> command = new ArrayList<>(detached());
        command.addAll(OciRegistry.prepareServe(layout.registryDir(), port));
        return launch(command, layout.registryDir(), layout.log(REGISTRY), Map.of());
    }

    /**
     * How replica {@code replica} of a service is started now (nothing is written or started): on {@link #serviceJvm}
     * with {@link #serviceJvmOptions}, plus its cache options ({@link ServiceJvm#aotOptions}: replica 1 trains the
     * cache when there is none, every replica uses it once it exists).
     */
    private ServiceLaunch serviceLaunch(ServiceSpec s, int replica, Map<String, String> stack,
            Map<String, Integer> ports, Map<String, String> secrets) {
        String name = s.replicaName(replica);
        Path dir = layout.serviceDir(name);
        List<String> command = new ArrayList<>(detached());
        command.add(serviceJvm.java().toString());
        command.addAll(serviceJvmOptions);
        if (serviceJvm.caches(s.name())) {
            Path cache = serviceJvm.cacheFile(aotDir(), s.name(), serviceJvmOptions, ProcessFingerprint.build(s
                    .appDir(projectDir)));
            command.addAll(serviceJvm.aotOptions(cache, replica == 1));
        }
        command.addAll(List.of("-Dconveyor.local.service=" + name, "-Dconveyor.local.data=" + layout.root(), "-jar",
                s.runJar(projectDir).toString()));
        Map<String, String> env = new LinkedHashMap<>();
        env.put("KUBECONFIG", stack.get(StackLayout.KUBECONFIG));
        return new ServiceLaunch(command, dir, layout.log(name), env, s.config(layout, stack, ports, secrets, replica),
                dir.resolve("config/application.properties"), s.appDir(projectDir));
    }

    private Process startService(ServiceLaunch l) {
        try {
            Files.createDirectories(l.configFile().getParent());
            StackLayout.write(l.configFile(), l.config(), true);
            ServiceJvm.prepareStart(l.command());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return launch(l.command(), l.dir(), l.log(), l.env());
    }

    /**
     * How a service was started, for {@code up}'s output: {@code , JDK 25.0.3, AOT cache} or {@code , JDK 17.0.15,
     * training its CDS archive}; empty on a JDK < 25 without a cache ({@code CONVEYOR_AOT=off}).
     */
    private String jvmNote(String name) {
        if (!serviceJvm.caches() && serviceJvm.feature() < ServiceJvm.AOT_FEATURE) {
            return "";
        }
        String aot = layout.processes().get(name + ".aot");
        return ", JDK " + serviceJvm.version() + ("training".equals(aot)
                ? ", training its " + serviceJvm.cacheKind()
                : "cache".equals(aot) ? ", " + serviceJvm.cacheKind() : "");
    }

    /**
     * The services' JVM options (before the AOT options and the jar). {@code -Xms32m}: the initial heap is otherwise
     * 1/64 of the machine's memory (368 MiB on 23 GiB, nearly all of {@code -Xmx384m}), and the young generation's
     * pages are touched before the first collection: measured on the versioner alone, resident memory at start 149 →
     * 105 MiB on JDK 17 and 171 → 120 MiB on JDK 25 with its AOT cache, start time unchanged (root BENCHMARKS.md).
     */
    static final List<String> SERVICE_JVM_OPTIONS = List.of("-Xmx384m", "-Xms32m", "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1");

    /** How long a service training its cache (AOT or CDS) may take to exit (the JVM writes the cache as it exits). */
    static final Duration TRAINING_EXIT_TIMEOUT = Duration.ofSeconds(120);

    /**
     * Where the services' caches are kept ({@link ServiceJvm}): {@code $CONVEYOR_AOT_DIR} when set (shared by several
     * stacks, e.g. every IT of one {@code verify}), else {@code aot/} in the data directory.
     */
    Path aotDir() {
        return aotDir != null ? aotDir : layout.root().resolve("aot");
    }

    /**
     * How a service process would be started now, for benchmarks: with the stack's recorded ports, endpoints and
     * secrets (the stack must have been up once).
     */
    ServiceLaunch serviceLaunch(String name) {
        Map.Entry<ServiceSpec, Integer> r = ServiceSpec.ofReplica(name).orElseThrow(
                () -> new IllegalArgumentException("not a service: " + name));
        Map<String, String> stack = layout.readStack().orElseThrow(() -> new IllegalStateException(
                "the stack has not been up"));
        return serviceLaunch(r.getKey(), r.getValue(), stack, ports(layout.ports()), layout.secrets());
    }

    /** Writes a service's configuration and starts it (not recorded in {@code processes.properties}); benchmarks. */
    Process startServiceProcess(ServiceLaunch l) {
        return startService(l);
    }

    // ---- processes.properties

    private long recordedPid(String name) {
        return Optional.ofNullable(layout.processes().get(name + ".pid")).map(Long::parseLong).orElse(-1L);
    }

    private void recordStart(Member m, long pid, ServiceLaunch plan) {
        Map<String, String> procs = new LinkedHashMap<>(layout.processes());
        procs.put(m.name() + ".pid", Long.toString(pid));
        procs.put(m.name() + ".kind", m.kind().name());
        procs.put(m.name() + ".port", Integer.toString(m.ports().get(0)));
        procs.put(m.name() + ".started", Long.toString(System.currentTimeMillis()));
        procs.remove(m.name() + ".start-ms");
        procs.remove(m.name() + ".aot");
        if (plan != null) {
            // What it was started with: up restarts it when either differs from what it would start now.
            procs.put(m.name() + ".build", ProcessFingerprint.build(plan.appDir()));
            procs.put(m.name() + ".launch", plan.launchDigest());
            // How its cache is used: down gives a training run time to write it.
            if (plan.trainsCache()) {
                procs.put(m.name() + ".aot", "training");
            } else if (ServiceJvm.usesCache(plan.command())) {
                procs.put(m.name() + ".aot", "cache");
            }
        }
        layout.writeProcesses(procs);
    }

    private void recordReady(String name, Duration took) {
        Map<String, String> procs = new LinkedHashMap<>(layout.processes());
        procs.put(name + ".start-ms", Long.toString(took.toMillis()));
        layout.writeProcesses(procs);
    }

    /**
     * Every process name in supervision order: the infrastructure, then each service's replicas — as many as
     * {@code counts} asks for, and any higher one still recorded in {@code procs}.
     */
    private static List<String> order(Map<String, String> procs, Map<String, Integer> counts) {
        List<String> names = new ArrayList<>(List.of(STACK_HOST, KAFKA, REGISTRY));
        for (ServiceSpec s : ServiceSpec.ALL) {
            int n = counts.getOrDefault(s.name(), 1);
            for (String key : procs.keySet()) {
                if (key.endsWith(".pid")) {
                    Optional<Map.Entry<ServiceSpec, Integer>> r = ServiceSpec.ofReplica(key.substring(0, key.length()
                            - 4));
                    if (r.isPresent() && r.get().getKey().equals(s)) {
                        n = Math.max(n, r.get().getValue());
                    }
                }
            }
            names.addAll(s.replicaNames(n));
        }
        return names;
    }

    private static Kind kindOf(String name) {
        return switch (name) {
            case STACK_HOST -> Kind.STACK_HOST;
            case KAFKA -> Kind.BROKER;
            case REGISTRY -> Kind.REGISTRY;
            default -> Kind.SERVICE;
        };
    }

    private Path logOf(Member m) {
        return m.kind() == Kind.BROKER
                ? layout.kafkaDir().resolve("broker.log")
                : layout.log(m.kind() == Kind.STACK_HOST ? "stack" : m.name());
    }

    private static String address(Member m) {
        int port = m.ports().get(0);
        return switch (m.kind()) {
            case SERVICE -> "http://127.0.0.1:" + port;
            case BROKER -> "127.0.0.1:" + port;
            case REGISTRY -> "http://127.0.0.1:" + port;
            case STACK_HOST -> "git://127.0.0.1:" + port + "/";
        };
    }

    /**
     * Stops every process the stack recorded (services first, then the stack host, the registry and the broker),
     * waiting for each; what is still alive after 20 s is killed. Ports, data and secrets stay.
     */
    public List<String> down() {
        Map<String, String> procs = layout.processes();
        List<String> stopped = new ArrayList<>();
        // Services first (their Kafka clients close cleanly while the broker is still up), then the infrastructure.
        stop(procs, order(procs, replicaCounts()).stream().filter(n -> ServiceSpec.ofReplica(n).isPresent()).toList(),
                stopped);
        stop(procs, List.of(STACK_HOST, REGISTRY), stopped);
        stop(procs, List.of(KAFKA), stopped);
        try {
            Files.deleteIfExists(layout.processesFile());
            Files.deleteIfExists(layout.stackFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return stopped;
    }

    private void stop(Map<String, String> procs, List<String> names, List<String> stopped) {
        Map<ProcessHandle, String> stopping = new LinkedHashMap<>();
        Map<String, Long> logSizes = new LinkedHashMap<>();
        for (String name : names) {
            String pid = procs.get(name + ".pid");
            Optional<ProcessHandle> handle = pid == null ? Optional.empty() : ProcessHandle.of(Long.parseLong(pid));
            if (handle.isPresent() && alive(handle.get().pid()) && ours(handle.get().pid())) {
                logSizes.put(name, size(layout.log(name)));
                handle.get().destroy();
                stopping.put(handle.get(), name);
                stopped.add(name);
            }
        }
        long began = System.nanoTime();
        for (Map.Entry<ProcessHandle, String> e : stopping.entrySet()) {
            ProcessHandle h = e.getKey();
            String name = e.getValue();
            // A service training its cache writes it as it exits: once Quarkus has logged that it stopped (the JVM then
            // writes the CDS archive itself, or records and forks a JVM that writes the AOT cache), it gets up to
            // TRAINING_EXIT_TIMEOUT; one that never stops 20 s, like any other.
            boolean training = "training".equals(procs.get(name + ".aot"));
            while (alive(h.pid())) {
                long waited = System.nanoTime() - began;
                boolean writing = training && (h.descendants().findAny().isPresent() || loggedSince(layout.log(name),
                        logSizes.get(name), " stopped in "));
                if (waited > (writing ? TRAINING_EXIT_TIMEOUT : Duration.ofSeconds(20)).toNanos()) {
                    break;
                }
                pause(100);
            }
            if (alive(h.pid())) {
                kill(h.pid());
            }
        }
    }

    private static long size(Path file) {
        try {
            return Files.isRegularFile(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    /** Whether a log holds {@code text} after its first {@code from} bytes. */
    private static boolean loggedSince(Path log, long from, String text) {
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(log.toFile(), "r")) {
            long length = f.length();
            if (length <= from) {
                return false;
            }
            byte[] bytes = new byte[(int) Math.min(length - from, 1 << 20)];
            f.seek(length - bytes.length);
            f.readFully(bytes);
            return new String(bytes, StandardCharsets.UTF_8).contains(text);
        } catch (IOException e) {
            return false;
        }
    }

    /** One line per process: name, pid, state ({@code ready}, {@code unhealthy}, {@code stopped}), URL, memory. */
    public List<String> status() {
        Map<String, String> procs = layout.processes();
        Optional<Map<String, String>> stack = layout.readStack();
        Map<String, Member> members = new LinkedHashMap<>();
        Map<String, Integer> counts = replicaCounts();
        if (stack.isPresent() && !layout.ports().isEmpty()) {
            members(ports(layout.ports()), stack.get(), Map.of(), Optional.empty(), counts).forEach(m -> members.put(m
                    .name(), m));
        }
        List<String> lines = new ArrayList<>();
        for (String name : order(procs, counts)) {
            String pid = procs.get(name + ".pid");
            if (pid == null) {
                if (!REGISTRY.equals(name)) {
                    lines.add(String.format("%-20s  not started", name));
                }
                continue;
            }
            long p = Long.parseLong(pid);
            boolean alive = alive(p);
            Member m = members.get(name);
            boolean healthy = m != null && m.healthy().getAsBoolean();
            String state = healthy ? "ready" : alive ? "unhealthy" : "stopped";
            String url = m == null ? "" : address(m);
            lines.add(String.format("%-20s  pid %-7s %-9s %-24s %s", name, pid, state, url, alive
                    ? rssMiB(p).map(
                            mib -> mib + " MiB RSS").orElse("")
                    : ""));
        }
        return lines;
    }

    /** The start time Quarkus reports in a service's log ({@code started in 4.496s}), of its latest start. */
    static Optional<String> quarkusStart(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            for (int i = lines.size() - 1; i >= 0; i--) {
                var m = java.util.regex.Pattern.compile("started in ([0-9.]+s)").matcher(lines.get(i));
                if (m.find()) {
                    return Optional.of(m.group(1));
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /** Resident memory of a process from {@code /proc/<pid>/status}, in MiB. */
    public static Optional<Long> rssMiB(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Optional.of(Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private boolean httpOk(String url) {
        try {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(PROBE_TIMEOUT).GET()
                    .build(), HttpResponse.BodyHandlers.discarding());
            return r.statusCode() == 200;
        } catch (IOException e) {
            // Not listening, or not answering in time.
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), (int) PROBE_TIMEOUT
                    .toMillis());
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private Map<String, String> ensureSecrets() {
        Map<String, String> secrets = new LinkedHashMap<>(layout.secrets());
        boolean changed = false;
        SecureRandom random = new SecureRandom();
        for (String key : List.of("hook-token", "api-token", "viewer-token", "webhook-secret", "github-token",
                "slack-token", "jira-token")) {
            if (!secrets.containsKey(key)) {
                byte[] bytes = new byte[24];
                random.nextBytes(bytes);
                secrets.put(key, HexFormat.of().formatHex(bytes));
                changed = true;
            }
        }
        if (!secrets.containsKey(ServiceSpec.REDACTION_KEY)) {
            // The manifest-renderer replicas' shared key: the one a single renderer made for itself, if it did.
            byte[] bytes = new byte[32];
            random.nextBytes(bytes);
            secrets.put(ServiceSpec.REDACTION_KEY, ServiceSpec.existingRedactionKey(layout).orElse(HexFormat.of()
                    .formatHex(bytes)));
            changed = true;
        }
        if (changed) {
            layout.writeSecrets(secrets);
        }
        return secrets;
    }

    /** The preferred port when it is free and not taken yet (null: none preferred), else a free port. */
    private static int port(Integer preferred, Map<String, Integer> taken) {
        if (preferred != null && !taken.containsValue(preferred) && free(preferred)) {
            return preferred;
        }
        int port;
        do {
            port = dev.conveyor.testkit.Ports.free();
        } while (taken.containsValue(port));
        return port;
    }

    private static boolean free(int port) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static List<String> detached() {
        // A new session: Ctrl-C in the terminal that started the stack does not reach it.
        return Files.isExecutable(Path.of("/usr/bin/setsid"))
                ? List.of("/usr/bin/setsid")
                : Files.isExecutable(Path.of("/bin/setsid")) ? List.of("/bin/setsid") : List.of();
    }

    private static Process launch(List<String> command, Path dir, Path log, Map<String, String> env) {
        try {
            Files.createDirectories(dir);
            Files.createDirectories(log.getParent());
            ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            // docker-registry lets REGISTRY_* variables override its configuration; no part of the stack reads them.
            pb.environment().keySet().removeIf(name -> name.startsWith("REGISTRY_"));
            pb.environment().putAll(env);
            // setsid execs the program in place, so the pid is the program's own.
            return pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command.get(0), e);
        }
    }

    /**
     * Whether a process is running: its {@code /proc/<pid>/stat} exists and its state is not {@code Z} (zombie) or
     * {@code X} (dead). A process killed with {@code kill -9} stays a zombie until its parent reaps it, so an existing
     * pid alone proves nothing. Where there is no {@code /proc}, {@link ProcessHandle#isAlive()} decides.
     */
    public static boolean alive(long pid) {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        if (!Files.isDirectory(Path.of("/proc/self"))) {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }
        try {
            String line = Files.readString(stat, StandardCharsets.UTF_8);
            // "<pid> (<comm>) <state> ...": comm may contain spaces and parentheses, the state follows the last ')'.
            int close = line.lastIndexOf(')');
            char state = close >= 0 && close + 2 < line.length() ? line.charAt(close + 2) : '?';
            return state != 'Z' && state != 'X' && state != 'x';
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether a pid is one of this stack's processes: its command line names the data directory. */
    boolean ours(long pid) {
        try {
            String cmdline = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
                    StandardCharsets.UTF_8);
            return cmdline.contains(layout.root().toString());
        } catch (IOException e) {
            // No /proc: trust the record.
            return !Files.isDirectory(Path.of("/proc/self"));
        }
    }

    /** Stops a process ({@code SIGTERM}), waits up to 20 s, then kills it ({@link #kill}). */
    static void terminate(long pid) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (alive(pid) && System.nanoTime() < deadline) {
            pause(100);
        }
        if (alive(pid)) {
            kill(pid);
        }
    }

    /** Kills a process and its children ({@code SIGKILL}) and waits until it is gone or a zombie. */
    static void kill(long pid) {
        ProcessHandle.of(pid).ifPresent(h -> {
            h.descendants().forEach(ProcessHandle::destroyForcibly);
            h.destroyForcibly();
        });
        long deadline = System.nanoTime() + KILL_TIMEOUT.toNanos();
        while (alive(pid) && System.nanoTime() < deadline) {
            pause(50);
        }
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    static String tail(Path file, int lines) {
        return dev.conveyor.testkit.ServerProcesses.logTail(file, lines);
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
