package dev.conveyor.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * What a service process was started with, so that {@code up} can tell a running process that no longer matches its
 * build or its configuration: two SHA-256 digests, recorded in {@code processes.properties} at each start.
 *
 * <ul>
 * <li>{@code build}: the content of the service's {@code target/quarkus-app} — every jar by its entries' names, sizes
 * and CRC-32s (read from the jar's central directory, so a repackaged jar with the same classes and new timestamps
 * counts as unchanged), every other file by its bytes;</li>
 * <li>{@code launch}: the command line, the environment the launcher adds and the configuration it writes
 * ({@code services/<name>/config/application.properties}).</li>
 * </ul>
 * Neither digest nor any reason names a configuration value: the configuration holds tokens.
 */
final class ProcessFingerprint {

    /** Jar digests by path, size and modification time: a stack of 7 services has ~1,000 jars, most unchanged. */
    private static final Map<String, String> JARS = new ConcurrentHashMap<>();

    private ProcessFingerprint() {
    }

    /** The digest of a build output directory (see the class comment); of nothing when it does not exist. */
    static String build(Path appDir) {
        MessageDigest sha = sha256();
        if (!Files.isDirectory(appDir)) {
            return hex(sha.digest());
        }
        try (Stream<Path> walk = Files.walk(appDir)) {
            for (Path file : walk.filter(Files::isRegularFile).sorted(Comparator.comparing(Path::toString)).toList()) {
                sha.update(appDir.relativize(file).toString().getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
                sha.update((file.toString().endsWith(".jar")
                        ? jar(file)
                        : hex(sha256().digest(Files.readAllBytes(
                                file))))
                        .getBytes(StandardCharsets.UTF_8));
                sha.update((byte) '\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + appDir, e);
        }
        return hex(sha.digest());
    }

    private static String jar(Path file) throws IOException {
        String key = file + "|" + Files.size(file) + "|" + Files.getLastModifiedTime(file).toMillis();
        String known = JARS.get(key);
        if (known != null) {
            return known;
        }
        MessageDigest sha = sha256();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            List<ZipEntry> entries = new ArrayList<>(zip.stream().toList());
            entries.sort(Comparator.comparing(ZipEntry::getName));
            for (ZipEntry e : entries) {
                sha.update((e.getName() + "|" + e.getSize() + "|" + e.getCrc() + "\n").getBytes(
                        StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            // Not a readable zip: its bytes.
            sha.update(Files.readAllBytes(file));
        }
        String digest = hex(sha.digest());
        JARS.put(key, digest);
        return digest;
    }

    /** The digest of how a process is launched: command line, added environment and configuration, in a fixed order. */
    static String launch(List<String> command, Map<String, String> env, Map<String, String> config) {
        MessageDigest sha = sha256();
        command.forEach(a -> sha.update((a + "\0").getBytes(StandardCharsets.UTF_8)));
        sha.update((byte) '\n');
        new TreeMap<>(env).forEach((k, v) -> sha.update((k + "=" + v + "\0").getBytes(StandardCharsets.UTF_8)));
        sha.update((byte) '\n');
        new TreeMap<>(config).forEach((k, v) -> sha.update((k + "=" + v + "\0").getBytes(StandardCharsets.UTF_8)));
        return hex(sha.digest());
    }

    /** The configuration keys whose values differ (added, removed or changed), sorted: names only, never values. */
    static List<String> changedKeys(Map<String, String> before, Map<String, String> after) {
        TreeSet<String> keys = new TreeSet<>(before.keySet());
        keys.addAll(after.keySet());
        return keys.stream().filter(k -> !Objects.equals(before.get(k), after.get(k))).toList();
    }

    /**
     * Why a running process must be restarted, or empty when it runs what it would be started with now.
     *
     * @param recordedBuild the build digest recorded at its start (null: started by a launcher that recorded none)
     * @param recordedLaunch the launch digest recorded at its start (null: likewise)
     * @param build the build digest now
     * @param launch the launch digest now
     * @param startedConfig the configuration file it was started with, if it is still there
     * @param config the configuration it would get now
     * @param buildDir what to name as its build in the reason
     */
    static Optional<String> staleReason(String recordedBuild, String recordedLaunch, String build, String launch,
            Optional<Map<String, String>> startedConfig, Map<String, String> config, String buildDir) {
        if (recordedBuild == null || recordedLaunch == null) {
            return Optional.of("started without a fingerprint (by an older ./conveyor): its build and configuration are"
                    + " unknown");
        }
        List<String> why = new ArrayList<>();
        if (!recordedBuild.equals(build)) {
            why.add("its build changed (" + buildDir + ")");
        }
        if (!recordedLaunch.equals(launch)) {
            List<String> keys = startedConfig.map(c -> changedKeys(c, config)).orElse(List.of());
            why.add(keys.isEmpty()
                    ? "its command line, environment or configuration changed"
                    : "its configuration changed (" + String.join(", ", keys) + ")");
        }
        return why.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", why));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by the Java platform", e);
        }
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
