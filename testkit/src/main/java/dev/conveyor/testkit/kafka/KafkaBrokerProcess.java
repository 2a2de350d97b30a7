package dev.conveyor.testkit.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;

import dev.conveyor.testkit.Ports;
import dev.conveyor.testkit.ServerProcesses;

/**
 * A real Kafka broker (KRaft, combined broker and controller) in a JVM of its own, for the local stack.
 *
 * <p>
 * The broker's storage is formatted with {@code kafka.tools.StorageTool format} and the broker runs as
 * {@code kafka.Kafka server.properties}, exactly as Kafka's own scripts do, from the classpath given (the testkit's by
 * default, which carries {@code kafka_2.13}). Its data directory survives {@link #close()} so the local stack keeps its
 * event log across restarts; storage is only formatted when it is new.
 */
public final class KafkaBrokerProcess implements AutoCloseable {

    private final Process process;
    private final String bootstrapServers;
    private final Path dataDir;
    private final Path logFile;
    private final Duration startup;

    private KafkaBrokerProcess(Process process, String bootstrapServers, Path dataDir, Path logFile, Duration startup) {
        this.process = process;
        this.bootstrapServers = bootstrapServers;
        this.dataDir = dataDir;
        this.logFile = logFile;
        this.startup = startup;
    }

    /**
     * Starts a broker on a free port with its storage under {@code dataDir}, using this JVM's classpath.
     *
     * @param dataDir the broker's directory: {@code server.properties}, {@code data/} and {@code broker.log}
     * @param timeout how long to wait for the broker to serve clients
     */
    public static KafkaBrokerProcess start(Path dataDir, Duration timeout) {
        return start(dataDir, Ports.free(), System.getProperty("java.class.path"), timeout);
    }

    /** Starts a broker on the given client port, with the given classpath for the child JVM. */
    public static KafkaBrokerProcess start(Path dataDir, int port, String classpath, Duration timeout) {
        long begin = System.nanoTime();
        List<String> command = prepare(dataDir, port, Ports.free(), classpath, timeout);
        Path logFile = dataDir.resolve("broker.log");
        try {
            Process broker = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .start();
            String bootstrap = "127.0.0.1:" + port;
            awaitReady(broker, bootstrap, logFile, timeout);
            return new KafkaBrokerProcess(broker, bootstrap, dataDir, logFile,
                    Duration.ofNanos(System.nanoTime() - begin));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the Kafka broker process in " + dataDir, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the Kafka broker process", e);
        }
    }

    /**
     * Prepares a broker that someone else runs and supervises (the local stack starts it detached and restarts it
     * after a crash): writes {@code server.properties} for the given ports and formats the storage when it is new.
     * Existing storage is kept, so a broker restarted on the same ports and directory serves the same topics and
     * offsets. The broker's output belongs in {@code <dataDir>/broker.log}.
     *
     * @param dataDir the broker's directory: {@code server.properties}, {@code data/} and {@code broker.log}
     * @param port the client listener's port
     * @param controllerPort the KRaft controller listener's port; keep it across restarts
     * @param classpath a classpath carrying {@code kafka_2.13}
     * @param timeout how long formatting may take
     * @return the command that runs the broker ({@code java ... kafka.Kafka server.properties})
     */
    public static List<String> prepare(Path dataDir, int port, int controllerPort, String classpath,
            Duration timeout) {
        try {
            Files.createDirectories(dataDir);
            Path logDir = dataDir.resolve("data");
            Path config = dataDir.resolve("server.properties");
            Path logFile = dataDir.resolve("broker.log");
            writeConfig(config, logDir, port, controllerPort);
            if (!Files.exists(logDir.resolve("meta.properties"))) {
                String clusterId = Uuid.randomUuid().toString();
                Process format = new ProcessBuilder(java(), "-cp", classpath, "kafka.tools.StorageTool", "format",
                        "-t", clusterId, "-c", config.toString())
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                        .start();
                if (!format.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) || format.exitValue() != 0) {
                    format.destroyForcibly();
                    throw new IllegalStateException("formatting Kafka storage failed: " + tail(logFile));
                }
            }
            return List.of(java(), "-Xms256m", "-Xmx1g", "-cp", classpath, "kafka.Kafka", config.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the Kafka broker in " + dataDir, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while formatting Kafka storage", e);
        }
    }

    /**
     * Whether a broker at {@code bootstrap} answers a metadata request within {@code timeout}: an open port alone
     * proves nothing (another program may hold it, or the broker may still be loading its logs).
     */
    public static boolean serves(String bootstrap, Duration timeout) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "conveyor-probe-" + UUID.randomUUID());
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Long.toString(timeout.toMillis()));
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Long.toString(timeout.toMillis()));
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "200");
        Admin admin = Admin.create(props);
        try {
            return !admin.describeCluster().nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS).isEmpty();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            // A probe of a dead broker must not wait for its pending request on close.
            admin.close(Duration.ZERO);
        }
    }

    /** {@code host:port} of the broker's client listener. */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** The broker's directory (configuration, data and log). */
    public Path dataDir() {
        return dataDir;
    }

    /** The broker's combined stdout and stderr. */
    public Path logFile() {
        return logFile;
    }

    /** The operating-system process id, for the local stack's status and stop commands. */
    public long pid() {
        return process.pid();
    }

    /** How long {@link #start} took. */
    public Duration startupTime() {
        return startup;
    }

    /** Whether the broker process is still running. */
    public boolean isAlive() {
        return process.isAlive();
    }

    /** Stops the broker gracefully (SIGTERM, then SIGKILL after 30 seconds); the data directory stays. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static void writeConfig(Path config, Path logDir, int port, int controllerPort) throws IOException {
        List<String> lines = new ArrayList<>(List.of(
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "log.dirs=" + logDir.toAbsolutePath(),
                // After a kill -9 the restarted node's controller still holds the dead incarnation's registration and
                // refuses the new one until that broker session expires (9 s by default): keep it short, a single
                // node has no peer to be falsely fenced by.
                "broker.session.timeout.ms=2500",
                "broker.heartbeat.interval.ms=500"));
        KafkaBroker.SINGLE_NODE_SETTINGS.forEach((k, v) -> lines.add(k + "=" + v));
        Files.write(config, lines, StandardCharsets.UTF_8);
    }

    private static void awaitReady(Process broker, String bootstrap, Path logFile, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "conveyor-readiness-" + UUID.randomUUID());
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "2000");
        try (Admin admin = Admin.create(props)) {
            while (true) {
                if (!broker.isAlive()) {
                    throw new IllegalStateException("the Kafka broker exited with " + broker.exitValue() + ": "
                            + tail(logFile));
                }
                try {
                    admin.describeCluster().nodes().get(2, TimeUnit.SECONDS);
                    return;
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    if (System.nanoTime() > deadline) {
                        broker.destroyForcibly();
                        throw new IllegalStateException("the Kafka broker did not serve clients within " + timeout
                                + ": " + tail(logFile));
                    }
                }
            }
        }
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static String tail(Path logFile) {
        return ServerProcesses.logTail(logFile, 20);
    }
}
