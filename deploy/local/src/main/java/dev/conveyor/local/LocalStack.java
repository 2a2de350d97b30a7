package dev.conveyor.local;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
import java.util.stream.Stream;

/**
 * Starts, inspects and stops the local stack: the stack host (infrastructure, see {@link StackHost}) and every
 * service in its own JVM, each detached from the terminal ({@code setsid}) so that the stack outlives the command
 * that started it. Everything it starts is recorded in {@code processes.properties}; {@link #down} stops exactly
 * that.
 */
public final class LocalStack {

    /** Ports the services prefer (their own defaults); a taken port is replaced by a free one. */
    static final Map<String, Integer> PREFERRED_PORTS = Map.of("gateway", 8080, "versioner", 8081, "image-builder",
            8082, "manifest-renderer", 8083, "promoter", 8084, "flux-sync", 8086, "notifier", 8087);

    private static final Duration START_TIMEOUT = Duration.ofSeconds(240);

    private final Path projectDir;
    private final StackLayout layout;
    private final String classpath;
    private final PrintStream out;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private boolean withoutRegistry;

    /**
     * @param projectDir the Conveyor checkout (services run from {@code <module>/target/quarkus-app})
     * @param dataDir the stack's data directory
     * @param classpath the classpath of the stack host JVM (this module and its dependencies)
     * @param out where progress goes
     */
    public LocalStack(Path projectDir, Path dataDir, String classpath, PrintStream out) {
        this.projectDir = projectDir.toAbsolutePath().normalize();
        this.layout = new StackLayout(dataDir);
        this.classpath = classpath;
        this.out = out;
    }

    /** Runs the stack without an OCI registry even where docker-registry is installed (what the fallback does). */
    public LocalStack withoutRegistry() {
        this.withoutRegistry = true;
        return this;
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
    }

    /** Whether the stack host and every service recorded are alive. */
    public boolean isUp() {
        Map<String, String> procs = layout.processes();
        if (procs.isEmpty()) {
            return false;
        }
        return procs.entrySet().stream().filter(e -> e.getKey().endsWith(".pid"))
                .allMatch(e -> alive(Long.parseLong(e.getValue())));
    }

    /**
     * Starts whatever is not running: the stack host, the sample repositories, then every service; waits until all
     * are ready. Safe to rerun.
     *
     * @param kubeconfig a real cluster to deploy to, instead of the API stand-in
     */
    public Running up(Optional<Path> kubeconfig) {
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
        Map<String, String> procs = new LinkedHashMap<>(layout.processes());
        Map<String, String> stack = startHost(procs, kubeconfig);
        if (new SampleApp(layout).init()) {
            out.printf("  sample repositories   %s%s, %s%s%n", stack.get(StackLayout.GIT), SampleApp.APP_REPO,
                    stack.get(StackLayout.GIT), SampleApp.GITOPS_REPO);
        }

        Map<String, Integer> ports = new LinkedHashMap<>();
        List<ServiceSpec> starting = new ArrayList<>();
        for (ServiceSpec s : ServiceSpec.ALL) {
            String pid = procs.get(s.name() + ".pid");
            if (pid != null && alive(Long.parseLong(pid))) {
                ports.put(s.name(), Integer.parseInt(procs.get(s.name() + ".port")));
            } else {
                ports.put(s.name(), port(PREFERRED_PORTS.get(s.name()), ports));
                starting.add(s);
            }
        }
        Map<String, Long> began = new LinkedHashMap<>();
        for (ServiceSpec s : starting) {
            Process p = startService(s, stack, ports, secrets);
            procs.put(s.name() + ".pid", Long.toString(p.pid()));
            procs.put(s.name() + ".port", Integer.toString(ports.get(s.name())));
            began.put(s.name(), System.nanoTime());
        }
        layout.writeProcesses(procs);
        Map<String, Long> startMillis = new LinkedHashMap<>();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        for (ServiceSpec s : starting) {
            long pid = Long.parseLong(procs.get(s.name() + ".pid"));
            while (!ready(ports.get(s.name()))) {
                if (!alive(pid)) {
                    throw new IllegalStateException("service " + s.name() + " exited while starting; last lines of "
                            + layout.log(s.name()) + ":\n" + tail(layout.log(s.name()), 30));
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("service " + s.name() + " not ready after "
                            + START_TIMEOUT.toSeconds() + " s; see " + layout.log(s.name()));
                }
                pause(100);
            }
            long ms = Duration.ofNanos(System.nanoTime() - began.get(s.name())).toMillis();
            startMillis.put(s.name(), ms);
            procs.put(s.name() + ".start-ms", Long.toString(ms));
            out.printf("  %-20s  http://127.0.0.1:%d  ready in %.1f s (%s, pid %d)%n", s.name(), ports.get(s
                    .name()), ms / 1000.0, quarkusStart(layout.log(s.name())).map(q -> "Quarkus started in " + q)
                            .orElse("started"),
                    pid);
        }
        for (ServiceSpec s : ServiceSpec.ALL) {
            String ms = procs.get(s.name() + ".start-ms");
            if (ms != null) {
                startMillis.putIfAbsent(s.name(), Long.parseLong(ms));
            }
        }
        layout.writeProcesses(procs);
        return new Running(stack, ports, secrets, startMillis);
    }

    /** The running stack, if it is up. */
    public Optional<Running> running() {
        if (!isUp()) {
            return Optional.empty();
        }
        Map<String, String> procs = layout.processes();
        Map<String, Integer> ports = new LinkedHashMap<>();
        Map<String, Long> startMillis = new LinkedHashMap<>();
        for (ServiceSpec s : ServiceSpec.ALL) {
            String port = procs.get(s.name() + ".port");
            if (port == null) {
                return Optional.empty();
            }
            ports.put(s.name(), Integer.parseInt(port));
            Optional.ofNullable(procs.get(s.name() + ".start-ms")).ifPresent(v -> startMillis.put(s.name(),
                    Long.parseLong(v)));
        }
        return layout.readStack().map(stack -> new Running(stack, ports, layout.secrets(), startMillis));
    }

    private Map<String, String> startHost(Map<String, String> procs, Optional<Path> kubeconfig) {
        String hostPid = procs.get("stack-host.pid");
        if (hostPid != null && alive(Long.parseLong(hostPid))) {
            Optional<Map<String, String>> stack = layout.readStack();
            if (stack.isPresent()) {
                return stack.get();
            }
        }
        try {
            Files.deleteIfExists(layout.stackFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> command = new ArrayList<>(detached());
        command.addAll(List.of(java(), "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classpath,
                StackHost.class.getName(), layout.root().toString()));
        kubeconfig.ifPresent(k -> command.add(k.toAbsolutePath().toString()));
        if (withoutRegistry) {
            command.add("--no-registry");
        }
        long begin = System.nanoTime();
        Process host = launch(command, layout.root(), layout.log("stack"), Map.of());
        procs.put("stack-host.pid", Long.toString(host.pid()));
        layout.writeProcesses(procs);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (layout.readStack().isEmpty()) {
            if (!host.isAlive()) {
                throw new IllegalStateException("the stack host exited while starting; last lines of "
                        + layout.log("stack") + ":\n" + tail(layout.log("stack"), 30));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the stack host was not ready after " + START_TIMEOUT.toSeconds()
                        + " s; see " + layout.log("stack"));
            }
            pause(100);
        }
        Map<String, String> stack = layout.readStack().orElseThrow();
        procs.put("kafka.pid", stack.get("kafka.pid"));
        layout.writeProcesses(procs);
        out.printf("  %-20s  %s  (own JVM, pid %s, %.1f s)%n", "kafka", stack.get(StackLayout.KAFKA),
                stack.get("kafka.pid"), Long.parseLong(stack.get("kafka.start-ms")) / 1000.0);
        out.printf("  %-20s  %s%n", "registry", Optional.ofNullable(stack.get(StackLayout.REGISTRY)).map(
                r -> "http://" + r).orElse(
                        "none: images go to the OCI image layout " + stack.get(
                                StackLayout.IMAGE_LAYOUT) + ", charts to the git chart repository "
                                + stack.get(StackLayout.GIT) + SampleApp.CHARTS_REPO));
        out.printf("  %-20s  %s  (%s)%n", "git", stack.get(StackLayout.GIT), layout.gitDir());
        out.printf("  %-20s  %s%n", "kubernetes", "stand-in".equals(stack.get(StackLayout.KUBE_KIND))
                ? "API stand-in " + stack.get(StackLayout.KUBE_URL) + "  (KUBECONFIG=" + layout.kubeconfig() + ")"
                : "cluster of " + stack.get(StackLayout.KUBECONFIG));
        out.printf("  %-20s  %s  (GitHub, Slack, JIRA)%n", "notification stubs", stack.get(StackLayout.STUBS));
        out.printf("  stack host ready in %.1f s%n", Duration.ofNanos(System.nanoTime() - begin).toMillis() / 1000.0);
        return stack;
    }

    private Process startService(ServiceSpec s, Map<String, String> stack, Map<String, Integer> ports,
            Map<String, String> secrets) {
        Path dir = layout.serviceDir(s.name());
        try {
            Files.createDirectories(dir.resolve("config"));
            Path config = dir.resolve("config/application.properties");
            StackLayout.write(config, s.config(layout, stack, ports, secrets), true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> command = new ArrayList<>(detached());
        command.addAll(List.of(java(), "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Dconveyor.local.service=" + s.name(), "-jar", s.runJar(projectDir).toString()));
        Map<String, String> env = new LinkedHashMap<>();
        env.put("KUBECONFIG", stack.get(StackLayout.KUBECONFIG));
        return launch(command, dir, layout.log(s.name()), env);
    }

    /**
     * Stops every process the stack recorded (services first, then the stack host, which stops the broker and the
     * registry), waiting for each; what is still alive after 20 s is killed.
     */
    public List<String> down() {
        Map<String, String> procs = layout.processes();
        List<String> stopped = new ArrayList<>();
        // Services first (their Kafka clients close cleanly while the broker is still up), then the stack host (it
        // stops the broker and the registry), then the broker if the host could not.
        stop(procs, ServiceSpec.ALL.stream().map(ServiceSpec::name).toList(), stopped);
        stop(procs, List.of("stack-host"), stopped);
        stop(procs, List.of("kafka"), stopped);
        try {
            Files.deleteIfExists(layout.processesFile());
            Files.deleteIfExists(layout.stackFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return stopped;
    }

    private static void stop(Map<String, String> procs, List<String> names, List<String> stopped) {
        List<ProcessHandle> stopping = new ArrayList<>();
        for (String name : names) {
            String pid = procs.get(name + ".pid");
            Optional<ProcessHandle> handle = pid == null ? Optional.empty() : ProcessHandle.of(Long.parseLong(pid));
            if (handle.isPresent() && handle.get().isAlive()) {
                handle.get().destroy();
                stopping.add(handle.get());
                stopped.add(name);
            }
        }
        for (ProcessHandle h : stopping) {
            try {
                h.onExit().get(20, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                h.descendants().forEach(ProcessHandle::destroyForcibly);
                h.destroyForcibly();
            }
        }
    }

    /** One line per process: name, pid, alive, port, ready, resident memory. */
    public List<String> status() {
        Map<String, String> procs = layout.processes();
        List<String> lines = new ArrayList<>();
        for (String name : Stream.concat(Stream.of("stack-host", "kafka"), ServiceSpec.ALL.stream().map(
                ServiceSpec::name)).toList()) {
            String pid = procs.get(name + ".pid");
            if (pid == null) {
                lines.add(String.format("%-20s  not started", name));
                continue;
            }
            long p = Long.parseLong(pid);
            boolean alive = alive(p);
            String port = procs.get(name + ".port");
            String state = !alive
                    ? "stopped"
                    : port == null
                            ? "running"
                            : ready(Integer.parseInt(port))
                                    ? "ready"
                                    : "starting";
            lines.add(String.format("%-20s  pid %-7s %-8s %-24s %s", name, pid, state, port == null
                    ? ""
                    : "http://127.0.0.1:" + port, alive ? rssMiB(p).map(m -> m + " MiB RSS").orElse("") : ""));
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

    boolean ready(int port) {
        try {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/q/health/ready")).timeout(Duration.ofSeconds(2)).GET().build(),
                    HttpResponse.BodyHandlers.discarding());
            return r.statusCode() == 200;
        } catch (IOException e) {
            // Not listening yet.
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private Map<String, String> ensureSecrets() {
        Map<String, String> secrets = new LinkedHashMap<>(layout.secrets());
        boolean changed = false;
        SecureRandom random = new SecureRandom();
        for (String key : List.of("hook-token", "api-token", "webhook-secret", "github-token", "slack-token",
                "jira-token")) {
            if (!secrets.containsKey(key)) {
                byte[] bytes = new byte[24];
                random.nextBytes(bytes);
                secrets.put(key, HexFormat.of().formatHex(bytes));
                changed = true;
            }
        }
        if (changed) {
            layout.writeSecrets(secrets);
        }
        return secrets;
    }

    private static int port(int preferred, Map<String, Integer> taken) {
        if (!taken.containsValue(preferred) && free(preferred)) {
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
            pb.environment().putAll(env);
            // setsid execs the program in place, so the pid is the program's own.
            return pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command.get(0), e);
        }
    }

    static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
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
