package dev.conveyor.local;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Where the local stack keeps its state, all under one data directory (default {@code .conveyor/} in the project):
 *
 * <pre>
 * ports.properties      the port of every process, chosen at the first start and reused by every later one
 * stack.properties      endpoints of the infrastructure, written by {@code up} when it is healthy
 * processes.properties  pid, kind, port, start time and fingerprint of every process the stack started
 * replicas.properties   how many processes of each service run (up --replicas N), kept until the next --replicas
 * secrets.properties    the stack's generated tokens (mode 600; never printed)
 * logs/&lt;name&gt;.log       one log per process
 * kafka/                broker storage (server.properties, data/, broker.log)
 * registry/             the OCI registry's configuration and storage
 * kube/objects.json     the API stand-in's objects, snapshotted after every write and restored at start
 * git/acme/*.git        the sample app and GitOps remotes, served by the git daemon
 * images/               without a registry: the OCI image layout (layout/) and the base image tarball
 * artifacts/            build artifacts of the sample app (what Jenkins would archive)
 * services/&lt;name&gt;/      each service's working directory: config/application.properties, mirrors, work dirs
 * kubeconfig            the API stand-in's kubeconfig
 * </pre>
 */
public record StackLayout(Path root) {

    public static final String KAFKA = "kafka.bootstrap-servers";
    public static final String REGISTRY = "registry.host";
    public static final String BASE_IMAGE = "registry.base-image";
    public static final String GIT = "git.base-url";
    public static final String KUBECONFIG = "kube.kubeconfig";
    public static final String KUBE_KIND = "kube.kind";
    public static final String KUBE_URL = "kube.url";
    public static final String STUBS = "stubs.url";
    public static final String IMAGE_LAYOUT = "images.oci-layout";

    public StackLayout {
        root = root.toAbsolutePath().normalize();
    }

    public Path stackFile() {
        return root.resolve("stack.properties");
    }

    public Path portsFile() {
        return root.resolve("ports.properties");
    }

    public Path processesFile() {
        return root.resolve("processes.properties");
    }

    /** How many processes of each service the stack runs ({@code versioner=2}), from the latest {@code --replicas}. */
    public Path replicasFile() {
        return root.resolve("replicas.properties");
    }

    public Path secretsFile() {
        return root.resolve("secrets.properties");
    }

    public Path logsDir() {
        return root.resolve("logs");
    }

    public Path log(String name) {
        return logsDir().resolve(name + ".log");
    }

    /** Without a registry: the OCI image layout and the base image tarball. */
    public Path imagesDir() {
        return root.resolve("images");
    }

    public Path kafkaDir() {
        return root.resolve("kafka");
    }

    /** The OCI registry's configuration and storage ({@code storage/}). */
    public Path registryDir() {
        return root.resolve("registry");
    }

    /** The API stand-in's snapshot of its objects. */
    public Path kubeSnapshot() {
        return root.resolve("kube").resolve("objects.json");
    }

    public Path gitDir() {
        return root.resolve("git");
    }

    public Path artifactsDir() {
        return root.resolve("artifacts");
    }

    public Path serviceDir(String service) {
        return root.resolve("services").resolve(service);
    }

    public Path kubeconfig() {
        return root.resolve("kubeconfig");
    }

    /** Writes {@code stack.properties} atomically: readers never see half of it. */
    void writeStack(Map<String, String> endpoints) {
        write(stackFile(), endpoints, false);
    }

    /** The infrastructure's endpoints, once the stack host has written them. */
    public Optional<Map<String, String>> readStack() {
        return read(stackFile());
    }

    Map<String, String> processes() {
        return read(processesFile()).orElseGet(LinkedHashMap::new);
    }

    void writeProcesses(Map<String, String> processes) {
        write(processesFile(), processes, false);
    }

    Map<String, String> ports() {
        return read(portsFile()).orElseGet(LinkedHashMap::new);
    }

    void writePorts(Map<String, String> ports) {
        write(portsFile(), ports, false);
    }

    Map<String, String> replicas() {
        return read(replicasFile()).orElseGet(LinkedHashMap::new);
    }

    void writeReplicas(Map<String, String> replicas) {
        write(replicasFile(), replicas, false);
    }

    Map<String, String> secrets() {
        return read(secretsFile()).orElseGet(LinkedHashMap::new);
    }

    void writeSecrets(Map<String, String> secrets) {
        write(secretsFile(), secrets, true);
    }

    static Optional<Map<String, String>> read(Path file) {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        Properties props = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            props.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        Map<String, String> map = new TreeMap<>();
        props.forEach((k, v) -> map.put(k.toString(), v.toString()));
        return Optional.of(map);
    }

    static void write(Path file, Map<String, String> values, boolean secret) {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp);
            if (secret) {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            }
            Properties props = new Properties();
            values.forEach(props::setProperty);
            try (Writer out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                props.store(out, null);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
