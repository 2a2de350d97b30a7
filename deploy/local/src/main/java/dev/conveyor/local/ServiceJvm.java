package dev.conveyor.local;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The JVM the local stack runs the services on, and each service's class cache: on JDK 25 or newer an AOT cache (the
 * one-step {@code -XX:AOTCacheOutput}, JEP 514/515), on JDK 13–24 a dynamic AppCDS archive
 * ({@code -XX:ArchiveClassesAtExit}, JEP 350).
 *
 * <p>
 * Which JVM: {@code $CONVEYOR_JAVA} (a JDK home, or its {@code bin/java}), else the launcher's own. The {@code conveyor}
 * script sets {@code CONVEYOR_JAVA} to the newest JDK &ge; 25 it finds in {@code /usr/lib/jvm} when it is not set;
 * {@code ./mvnw verify} runs the stack on the JDK Maven runs on. {@code CONVEYOR_AOT=off} runs without a cache.
 *
 * <p>
 * The cache: each service's first replica is started with the training option ({@code -XX:AOTCacheOutput=<file>},
 * {@code -XX:ArchiveClassesAtExit=<file>}) when its cache does not exist (a training run: the JVM records what the
 * service loads, and writes the file when it exits normally — {@code down}, or a restart), and with the option that
 * uses it ({@code -XX:AOTCache=<file>}, {@code -XX:SharedArchiveFile=<file>}) once it does. The file is
 * {@code <service>-jdk<version>-<key>.aot} (JDK 25+) or {@code .jsa} in the cache directory, the key a digest of the
 * service's build ({@link ProcessFingerprint#build}), the JVM's version and path and the JVM options: a new build, JDK
 * or option list never finds an old cache, so a stale cache is never named; an older file of the service is deleted
 * when a new one is trained. The cache options are not part of the launch digest ({@link ProcessFingerprint#launch}):
 * a service started as a training run is not restarted once its cache exists.
 *
 * <p>
 * Crash points. The JVM writes a cache's header (at offset 0) after everything else, so a JVM killed while writing
 * leaves a file whose first bytes are zero: that is no cache ({@link #usable}), and the next first replica trains again.
 * The first start that uses a complete cache records its size next to it ({@code <file>.size}, {@link #prepareStart});
 * a cache whose size differs later (truncated) is no cache either: JDK 17 does not check the size of a dynamic archive
 * and dies with {@code SIGBUS} on a truncated one. A cache whose bytes are damaged but whose size is unchanged: JDK 25
 * ignores it with a warning ({@code -XX:AOTMode=auto}); on JDK 13–24 the archive carries checksums that every start
 * verifies ({@code -XX:+VerifySharedSpaces}, {@link #CDS_OPTIONS}: without, JDK 17 dies with {@code SIGSEGV}), and the
 * JVM starts without it, printing {@code Unable to use shared archive}. A JVM that crashes while it writes the cache
 * leaves none: JDK 17.0.15's dynamic dump dies with {@code SIGSEGV} in {@code adjust_lambda_proxy_class_dictionary}
 * (an {@code hs_err_pid*.log} in the service's directory) once a service has run its warm-up or real work (the
 * versioner, image-builder, manifest-renderer and promoter do; the gateway and notifier write theirs). Each cache file
 * therefore gets {@link #TRAINING_STARTS} training starts, counted in {@code <file>.tries}; after that the service
 * starts without a cache until the build, JDK or options change.
 */
record ServiceJvm(Path java, String version, int feature, boolean aot) {

    /** The first JDK with {@code -XX:AOTCacheOutput}. */
    static final int AOT_FEATURE = 25;
    /** The first JDK with {@code -XX:ArchiveClassesAtExit}. */
    static final int CDS_FEATURE = 13;

    /** The options of every start with a dynamic AppCDS archive, training or using it (see the class comment). */
    static final List<String> CDS_OPTIONS = List.of("-XX:+VerifySharedSpaces");

    /** The options that train a cache, by the JDK that writes it: each names the file after its {@code =}. */
    private static final List<String> TRAIN = List.of("-XX:AOTCacheOutput=", "-XX:ArchiveClassesAtExit=");
    /** The options that use a cache. */
    private static final List<String> USE = List.of("-XX:AOTCache=", "-XX:SharedArchiveFile=");

    /**
     * The part of a cache file's name after the service's: {@code -jdk<version>-<key>.aot|.jsa}, and the JVM's
     * temporary configuration file ({@code .aot.config}) or its recorded size ({@code .size}).
     */
    private static final String CACHE_FILE = "-jdk[^-]*-[0-9a-f]+\\.(aot|jsa)(\\.config|\\.size|\\.tries)?$";

    /**
     * How many training starts a cache file gets before the launcher gives up on it (for this build, JDK and options):
     * a JVM that crashes while it writes the cache (JDK 17.0.15 does, in {@code adjust_lambda_proxy_class_dictionary},
     * once a service has run its warm-up or real work) would otherwise train, and crash at its exit, at every start.
     */
    static final int TRAINING_STARTS = 2;

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

    /** Whether services get a cache: a JDK 13 or newer, and not {@code CONVEYOR_AOT=off}. */
    boolean caches() {
        return aot && feature >= CDS_FEATURE;
    }

    /**
     * Services that get no dynamic CDS archive: flux-sync's JDK 17 training runs exited on {@code SIGTERM} in the stack
     * without writing one (twice, root BENCHMARKS.md; not isolated — it renders through helm-java, Go's runtime in the
     * process), so each of its starts would be a training run and each exit wait for a dump that never comes.
     */
    static final Set<String> WITHOUT_CDS = Set.of("flux-sync");

    /** Whether a service gets a cache on this JVM ({@link #caches}, and not in {@link #WITHOUT_CDS} before JDK 25). */
    boolean caches(String service) {
        return caches() && (feature >= AOT_FEATURE || !WITHOUT_CDS.contains(service));
    }

    /** What this JVM's cache is called in {@code up}'s output: {@code AOT cache} or {@code CDS archive}. */
    String cacheKind() {
        return feature >= AOT_FEATURE ? "AOT cache" : "CDS archive";
    }

    /** The JVM options every start with a cache adds before its cache option (none on JDK 25+). */
    List<String> cacheJvmOptions() {
        return caches() && feature < AOT_FEATURE ? CDS_OPTIONS : List.of();
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
                .formatHex(sha.digest()).substring(0, 16) + (feature >= AOT_FEATURE ? ".aot" : ".jsa"));
    }

    /**
     * The cache options of one start: the option that uses the cache when it is {@link #usable}, else the training
     * option when this start may train it ({@code train}: the service's first replica) and the cache has had fewer than
     * {@link #TRAINING_STARTS} training starts, else none; with
     * {@link #cacheJvmOptions} before either. Reads only; the start calls {@link #prepareStart} before it starts.
     */
    List<String> aotOptions(Path cache, boolean train) {
        if (!caches()) {
            return List.of();
        }
        int kind = feature >= AOT_FEATURE ? 0 : 1;
        List<String> options = new ArrayList<>(cacheJvmOptions());
        if (usable(cache)) {
            options.add(USE.get(kind) + cache);
        } else if (train && trainingStarts(cache) < TRAINING_STARTS) {
            options.add(TRAIN.get(kind) + cache);
        } else {
            return List.of();
        }
        return options;
    }

    /**
     * Whether a cache file is complete: it exists, its first bytes (the header, written last) are not all zero, and
     * its size is the one recorded at its first use, if any (see the class comment).
     */
    static boolean usable(Path cache) {
        try {
            if (!Files.isRegularFile(cache) || Files.size(cache) < 8) {
                return false;
            }
            byte[] head;
            try (InputStream in = Files.newInputStream(cache)) {
                head = in.readNBytes(8);
            }
            boolean written = false;
            for (byte b : head) {
                written |= b != 0;
            }
            Path size = sizeFile(cache);
            return written && (!Files.exists(size) || Files.readString(size).strip().equals(Long.toString(Files
                    .size(cache))));
        } catch (IOException | RuntimeException e) {
            // Unreadable: train a new one (or start without when this start may not).
            return false;
        }
    }

    /**
     * Before a start with a cache option in {@code command}: a training start creates the cache directory and deletes
     * the service's other cache files (older builds, JDKs or options, which no start will name again, and the file it
     * is about to replace with its size); a start that uses a cache records its size when none is recorded yet.
     */
    static void prepareStart(List<String> command) throws IOException {
        Optional<Path> used = option(command, USE);
        if (used.isPresent()) {
            if (!Files.exists(sizeFile(used.get())) && Files.isRegularFile(used.get())) {
                writeAside(sizeFile(used.get()), Long.toString(Files.size(used.get())));
            }
            return;
        }
        Optional<Path> cache = option(command, TRAIN);
        if (cache.isEmpty()) {
            return;
        }
        Path dir = cache.get().toAbsolutePath().getParent();
        Files.createDirectories(dir);
        String name = cache.get().getFileName().toString();
        String service = name.replaceFirst(CACHE_FILE, "");
        List<Path> old = new ArrayList<>();
        // The caches, their recorded sizes and the JVM's temporary configuration files (left by a training run
        // killed before its exit).
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, service + "-jdk*")) {
            files.forEach(old::add);
        }
        for (Path p : old) {
            String file = p.getFileName().toString();
            if (!file.equals(name) && !file.equals(name + ".config") && !file.equals(name + ".tries") && file
                    .replaceFirst(CACHE_FILE, "").equals(
                            service)) {
                Files.deleteIfExists(p);
            }
        }
        // An incomplete file of this name (a dump interrupted, a truncated file) goes: should this training run be
        // killed too, no file of a header and a wrong size is left for the next start.
        Files.deleteIfExists(sizeFile(cache.get()));
        Files.deleteIfExists(cache.get());
        // Counted before the JVM starts: a training run that ends without a usable cache (killed, or crashed while
        // writing it) has used one of its TRAINING_STARTS.
        writeAside(triesFile(cache.get()), Integer.toString(trainingStarts(cache.get()) + 1));
    }

    /** How many training starts this cache file has had (its {@code .tries} file; 0 when none). */
    static int trainingStarts(Path cache) {
        try {
            Path tries = triesFile(cache);
            return Files.exists(tries) ? Integer.parseInt(Files.readString(tries).strip()) : 0;
        } catch (IOException | RuntimeException e) {
            return 0; // unreadable: as if never trained
        }
    }

    /** Writes a small file aside and moves it in place: a start reading it meanwhile never sees it half-written. */
    private static void writeAside(Path file, String content) throws IOException {
        Path part = Files.createTempFile(file.toAbsolutePath().getParent(), "." + file.getFileName(), ".part");
        Files.writeString(part, content);
        Files.move(part, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Whether a command line trains a cache (the JVM writes it at exit, which takes seconds). */
    static boolean training(List<String> command) {
        return option(command, TRAIN).isPresent();
    }

    /** Whether a command line uses a cache. */
    static boolean usesCache(List<String> command) {
        return option(command, USE).isPresent();
    }

    /** A command line without its cache options: what the launch digest is taken of. */
    static List<String> withoutAot(List<String> command) {
        return command.stream().filter(a -> !CDS_OPTIONS.contains(a) && Stream.concat(TRAIN.stream(), USE.stream())
                .noneMatch(a::startsWith)).toList();
    }

    private static Optional<Path> option(List<String> command, List<String> options) {
        return command.stream().flatMap(a -> options.stream().filter(a::startsWith).map(o -> Path.of(a.substring(o
                .length())))).findFirst();
    }

    private static Path triesFile(Path cache) {
        return cache.resolveSibling(cache.getFileName() + ".tries");
    }

    private static Path sizeFile(Path cache) {
        return cache.resolveSibling(cache.getFileName() + ".size");
    }
}
