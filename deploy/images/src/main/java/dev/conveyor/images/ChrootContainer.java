package dev.conveyor.images;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * One service container, run from an unpacked image root as the chart's Deployment runs it, without a container
 * runtime: {@code unshare} gives it its own mount and PID namespaces, a fresh {@code /proc}, the image's root
 * ({@code chroot}), working directory and user (no capabilities, no supplementary groups), and the environment is
 * exactly the image's plus the chart's ({@code QUARKUS_HTTP_PORT}, {@code QUARKUS_CONFIG_LOCATIONS},
 * {@code KAFKA_BOOTSTRAP_SERVERS}, {@code HOME=/tmp}, {@code JAVA_TOOL_OPTIONS}). What a runtime adds to the root is
 * added to it before the start ({@link #preparePod}): the device nodes, the ConfigMap's
 * {@code /etc/conveyor/config/application.properties} and the data directory volume owned by the pod's
 * {@code fsGroup}. The network is the host's (loopback), like {@code hostNetwork}. Needs root.
 */
final class ChrootContainer implements AutoCloseable {

    /** Where the chart mounts the service's ConfigMap. */
    static final String CONFIG_FILE = "/etc/conveyor/config/application.properties";

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final Process unshare;
    private final Path log;
    private final int port;
    private final long started;
    private volatile Duration readyTime;

    private ChrootContainer(Process unshare, Path log, int port, long started) {
        this.unshare = unshare;
        this.log = log;
        this.port = port;
        this.started = started;
    }

    /** The chart's data directory of a service ({@code services.<name>.dataDir}). */
    static String dataDir(String service) {
        return "/var/lib/conveyor/" + service;
    }

    /**
     * Adds to an unpacked root what the runtime and the chart's volumes add: {@code /dev} nodes, {@code /proc} (the
     * mount point), the configuration file and the service's data directory.
     */
    static void preparePod(Path root, String service, Map<String, String> config) throws IOException {
        Path dev = Files.createDirectories(root.resolve("dev"));
        for (String[] node : new String[][]{{"null", "1", "3"}, {"zero", "1", "5"}, {"full", "1", "7"}, {
                "random", "1", "8"}, {"urandom", "1", "9"}}) {
            if (!Files.exists(dev.resolve(node[0]))) {
                ImageRoot.run(List.of("mknod", "-m", "666", dev.resolve(node[0]).toString(), "c", node[1], node[2]));
            }
        }
        Files.createDirectories(root.resolve("proc"));
        Path configFile = root.resolve(CONFIG_FILE.substring(1));
        Files.createDirectories(configFile.getParent());
        Files.writeString(configFile, config.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(
                Collectors.joining("\n", "", "\n")), StandardCharsets.UTF_8);
        Path data = Files.createDirectories(root.resolve(dataDir(service).substring(1)));
        ImageRoot.run(List.of("chown", BaseImage.UID + ":" + BaseImage.UID, data.toString()));
    }

    /**
     * Starts the image's entrypoint in {@code root}.
     *
     * @param javaToolOptions the chart's {@code JAVA_TOOL_OPTIONS} ({@code jvm.javaToolOptions} plus
     *     {@code -XX:AOTCache=} when {@code jvm.aotCache} is set)
     * @param log the container's output
     */
    static ChrootContainer start(Path root, ImageRoot.Config image, int port, String bootstrapServers,
            String javaToolOptions, Path log) throws IOException {
        int[] user = image.uidGid();
        // In new mount and PID namespaces: the root bind-mounted onto itself, so that "/" is a mount point inside it as
        // after a runtime's pivot_root (JGit, for one, looks its file store up in /proc/self/mounts), and a /proc of
        // the new PID namespace; then chroot, working directory and user, and the entrypoint as PID 1.
        String script = "mount --rbind \"$1\" \"$1\" && mount -t proc proc \"$1/proc\" && r=\"$1\" w=\"$2\" "
                + "u=\"$3\" g=\"$4\" && shift 4 && exec unshare --root=\"$r\" --wd=\"$w\" --setuid=\"$u\" "
                + "--setgid=\"$g\" -- \"$@\"";
        List<String> command = new ArrayList<>(List.of("unshare", "--mount", "--pid", "--fork", "--kill-child",
                "--propagation", "private", "/bin/sh", "-c", script, "container", root.toString(), image
                        .workingDir(),
                Integer.toString(user[0]), Integer.toString(user[1])));
        command.addAll(image.entrypoint());
        command.addAll(image.cmd());
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = new LinkedHashMap<>(image.env());
        env.put("QUARKUS_HTTP_PORT", Integer.toString(port));
        env.put("QUARKUS_CONFIG_LOCATIONS", CONFIG_FILE);
        env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrapServers);
        env.put("HOME", "/tmp");
        env.put("JAVA_TOOL_OPTIONS", javaToolOptions);
        builder.environment().clear();
        builder.environment().putAll(env);
        long started = System.nanoTime();
        return new ChrootContainer(builder.start(), log, port, started);
    }

    /** The container's JVM: the child {@code unshare} forked (PID 1 of its namespace, once the shell exec'd it). */
    Optional<ProcessHandle> jvm() {
        return unshare.toHandle().children().findFirst().filter(p -> p.info().command().map(c -> c.endsWith(
                "/bin/java")).orElse(false));
    }

    /**
     * Waits until {@code GET /q/health/ready} answers 200 and returns the time since the start.
     *
     * @throws IllegalStateException when the container exits first or {@code timeout} passes
     */
    Duration awaitReady(Duration timeout) {
        URI ready = URI.create("http://127.0.0.1:" + port + "/q/health/ready");
        long deadline = started + timeout.toNanos();
        while (true) {
            try {
                HttpResponse<Void> response = HTTP.send(HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(2))
                        .GET().build(), HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == 200) {
                    readyTime = Duration.ofNanos(System.nanoTime() - started);
                    return readyTime;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + ready, e);
            }
            if (!unshare.isAlive()) {
                throw new IllegalStateException("the container exited (" + unshare.exitValue() + ") before " + ready
                        + " answered 200. Log tail:\n" + logTail());
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(ready + " did not answer 200 within " + timeout + ". Log tail:\n"
                        + logTail());
            }
            try {
                unshare.waitFor(50, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + ready, e);
            }
        }
    }

    /** What {@link #awaitReady} returned, null before it did. */
    Duration readyTime() {
        return readyTime;
    }

    /** The JVM's resident set size in KiB ({@code VmRSS} of its {@code /proc/<pid>/status}). */
    long rssKib() {
        long pid = jvm().orElseThrow(() -> new IllegalStateException("the container's JVM is gone")).pid();
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the JVM's memory of pid " + pid, e);
        }
        throw new IllegalStateException("no VmRSS for pid " + pid);
    }

    /**
     * Stops the service as the kubelet does (SIGTERM to the container's PID 1) and waits up to {@code grace} for it to
     * exit (a training run writes its cache then), then kills it.
     *
     * @return the exit code, empty when it had to be killed
     */
    Optional<Integer> stop(Duration grace) {
        jvm().ifPresent(ProcessHandle::destroy);
        try {
            if (unshare.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                return Optional.of(unshare.exitValue());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        close();
        return Optional.empty();
    }

    /** The container's output so far. */
    String output() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    String logTail() {
        List<String> lines = output().lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }

    /** Kills what is left (the JVM, then {@code unshare}, which kills the namespace with it). */
    @Override
    public void close() {
        jvm().ifPresent(ProcessHandle::destroyForcibly);
        unshare.destroyForcibly();
        try {
            unshare.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
