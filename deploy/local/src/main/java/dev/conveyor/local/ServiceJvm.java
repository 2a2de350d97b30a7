package dev.conveyor.local;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The JVM the local stack runs the services on, and each service's AOT cache (JDK 25's one-step
 * {@code -XX:AOTCacheOutput}, JEP 514/515).
 *
 * <p>
 * Which JVM: {@code $CONVEYOR_JAVA} (a JDK home, or its {@code bin/java}), else the launcher's own. The {@code conveyor}
 * script sets {@code CONVEYOR_JAVA} to the newest JDK &ge; 25 it finds in {@code /usr/lib/jvm} when it is not set;
 * {@code ./mvnw verify} runs the stack on the JDK Maven runs on. {@code CONVEYOR_AOT=off} runs a JDK 25 without a cache.
 *
 * <p>
 * The cache, when the JVM is 25 or newer: each service's first replica is started with
 * {@code -XX:AOTCacheOutput=<file>} when its cache does not exist (a training run: the JVM records what the service
 * loads and runs, and writes the cache when it exits normally — {@code down}, or a restart), and with
 * {@code -XX:AOTCache=<file>} once it does. The file is {@code aot/<service>-jdk<version>-<key>.aot} in the data
 * directory, the key a digest of the service's build ({@link ProcessFingerprint#build}), the JVM's version and path and
 * the JVM options: a new build, JDK or option list never finds an old cache, so a stale cache is never named; an older
 * file of the service is deleted when a new one is trained. The JVM's own default ({@code -XX:AOTMode=auto}) ignores a
 * cache it cannot use, with a warning, and starts without it. The AOT options are not part of the launch digest
 * ({@link ProcessFingerprint#launch}): a service started as a training run is not restarted once its cache exists.
 */
record ServiceJvm(Path java, String version, int feature, boolean aot) {

    /** The first JDK with {@code -XX:AOTCacheOutput}. */
    static final int AOT_FEATURE = 25;

    /** The part of a cache file's name after the service's: {@code -jdk<version>-<key>.aot[.config]}. */
    private static final String CACHE_FILE = "-jdk[^-]*-[0-9a-f]+\\.aot(\\.config)?$";

    private static final Pattern JAVA_VERSION = Pattern.compile("^JAVA_VERSION=\"([^\"]+)\"", Pattern.MULTILINE);

    /** The JVM {@code $CONVEYOR_JAVA} and {@code $CONVEYOR_AOT} name (see the class comment). */
    static ServiceJvm fromEnvironment(Map<String, String> env) {
        boolean aot = !"off".equalsIgnoreCase(env.getOrDefault("CONVEYOR_AOT", "").strip());
        String named = env.getOrDefault("CONVEYOR_JAVA", "").strip();
        return named.isEmpty() ? current(aot) : of(Path.of(named), aot);
    }

    /** The JVM running this code. */
    static ServiceJvm current(boolean aot) {
        return new ServiceJvm(Path.of(System.getProperty("java.home"), "bin", "java"), Runtime.version().toString(),
                Runtime.version().feature(), aot);
    }

    /**
     * A JDK by its home or its {@code java} binary; its version from the home's {@code release} file.
     *
     * @throws IllegalArgumentException when it has no {@code bin/java} or no readable version
     */
    static ServiceJvm of(Path homeOrJava, boolean aot) {
        Path home = Files.isDirectory(homeOrJava) ? homeOrJava : homeOrJava.toAbsolutePath().getParent().getParent();
        Path java = home.resolve("bin/java");
        if (!Files.isExecutable(java)) {
            throw new IllegalArgumentException("CONVEYOR_JAVA: " + homeOrJava + " is not a JDK (no executable "
                    + java + ")");
        }
        String version;
        try {
            Matcher m = JAVA_VERSION.matcher(Files.readString(home.resolve("release"), StandardCharsets.UTF_8));
            if (!m.find()) {
                throw new IllegalArgumentException("CONVEYOR_JAVA: no JAVA_VERSION in " + home.resolve("release"));
            }
            version = m.group(1);
        } catch (IOException e) {
            throw new IllegalArgumentException("CONVEYOR_JAVA: cannot read " + home.resolve("release")
                    + " (the JDK's version)", e);
        }
        return new ServiceJvm(java, version, feature(version), aot);
    }

    /** The feature release of a version string: {@code 25} of {@code 25.0.3}, {@code 17} of {@code 17.0.15}. */
    static int feature(String version) {
        Matcher m = Pattern.compile("^(?:1\\.)?([0-9]+)").matcher(version);
        return m.find() ? Integer.parseInt(m.group(1)) : 0;
    }

    /** Whether services get an AOT cache: a JDK 25 or newer, and not {@code CONVEYOR_AOT=off}. */
    boolean caches() {
        return aot && feature >= AOT_FEATURE;
    }

    /** The cache file of a service for this JVM, its JVM options and its build. */
    Path cacheFile(Path aotDir, String service, List<String> jvmOptions, String buildDigest) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by the Java platform", e);
        }
        sha.update((version + "\0" + java.toAbsolutePath().normalize() + "\0" + String.join("\0", jvmOptions) + "\0"
                + buildDigest).getBytes(StandardCharsets.UTF_8));
        return aotDir.resolve(service + "-jdk" + version.replaceAll("[^0-9A-Za-z.]", "_") + "-" + HexFormat.of()
                .formatHex(sha.digest()).substring(0, 16) + ".aot");
    }

    /**
     * The AOT options of one start: {@code -XX:AOTCache} when the cache exists, else {@code -XX:AOTCacheOutput} when
     * this start may train it ({@code train}: the service's first replica), else none. Reads only; a training start
     * calls {@link #prepareTraining} before it starts.
     */
    List<String> aotOptions(Path cache, boolean train) {
        if (!caches()) {
            return List.of();
        }
        try {
            if (Files.isRegularFile(cache) && Files.size(cache) > 0) {
                return List.of("-XX:AOTCache=" + cache);
            }
        } catch (IOException e) {
            // Unreadable: train a new one (or start without when this start may not).
        }
        return train ? List.of("-XX:AOTCacheOutput=" + cache) : List.of();
    }

    /**
     * Before a training start ({@code -XX:AOTCacheOutput=<file>} in {@code command}): creates the cache directory and
     * deletes the service's other cache files (older builds, JDKs or options), which no start will name again.
     */
    static void prepareTraining(List<String> command) throws IOException {
        Optional<Path> cache = command.stream().filter(a -> a.startsWith("-XX:AOTCacheOutput=")).findFirst().map(
                a -> Path.of(a.substring("-XX:AOTCacheOutput=".length())));
        if (cache.isEmpty()) {
            return;
        }
        Path dir = cache.get().toAbsolutePath().getParent();
        Files.createDirectories(dir);
        String name = cache.get().getFileName().toString();
        String service = name.replaceFirst(CACHE_FILE, "");
        List<Path> old = new ArrayList<>();
        // The caches and the JVM's temporary configuration files (left by a training run killed before its exit).
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, service + "-jdk*.aot*")) {
            files.forEach(old::add);
        }
        for (Path p : old) {
            String file = p.getFileName().toString();
            if (!file.equals(name) && !file.equals(name + ".config") && file.replaceFirst(CACHE_FILE, "").equals(
                    service)) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Whether a command line trains a cache (the JVM writes it at exit, which takes seconds). */
    static boolean training(List<String> command) {
        return command.stream().anyMatch(a -> a.startsWith("-XX:AOTCacheOutput="));
    }

    /** A command line without its AOT options: what the launch digest is taken of. */
    static List<String> withoutAot(List<String> command) {
        return command.stream().filter(a -> !a.startsWith("-XX:AOTCache=") && !a.startsWith(
                "-XX:AOTCacheOutput=")).toList();
    }
}
