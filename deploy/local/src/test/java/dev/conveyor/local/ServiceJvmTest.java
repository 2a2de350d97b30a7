package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which JVM the services run on, and when a start trains, uses or ignores its cache (AOT cache or CDS archive). */
class ServiceJvmTest {

    static final List<String> OPTIONS = List.of("-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
    static final Path JDK25 = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64");

    @TempDir
    Path dir;

    @Test
    void conveyorJavaNamesTheJdkAndItsVersionComesFromItsReleaseFile() throws IOException {
        Path home = fakeJdk("25.0.3");
        ServiceJvm jvm = ServiceJvm.fromEnvironment(Map.of("CONVEYOR_JAVA", home.toString()));
        assertThat(jvm.java()).isEqualTo(home.resolve("bin/java"));
        assertThat(jvm.feature()).isEqualTo(25);
        assertThat(jvm.caches()).isTrue();
        assertThat(ServiceJvm.fromEnvironment(Map.of("CONVEYOR_JAVA", home.resolve("bin/java").toString())).version())
                .isEqualTo("25.0.3");
        assertThat(ServiceJvm.fromEnvironment(Map.of("CONVEYOR_JAVA", home.toString(), "CONVEYOR_AOT", "off"))
                .caches()).isFalse();
        ServiceJvm jdk17 = ServiceJvm.fromEnvironment(Map.of("CONVEYOR_JAVA", fakeJdk("17.0.15").toString()));
        assertThat(jdk17.caches()).as("JDK 17: a dynamic CDS archive").isTrue();
        assertThat(jdk17.cacheKind()).isEqualTo("CDS archive");
        assertThat(ServiceJvm.fromEnvironment(Map.of("CONVEYOR_JAVA", fakeJdk("17.0.15").toString(), "CONVEYOR_AOT",
                "off")).caches()).isFalse();
        assertThat(ServiceJvm.fromEnvironment(Map.of("CONVEYOR_JAVA", fakeJdk("11.0.2").toString())).caches()).as(
                "JDK 11 has no -XX:ArchiveClassesAtExit").isFalse();
        assertThatThrownBy(() -> ServiceJvm.fromEnvironment(Map.of("CONVEYOR_JAVA", dir.resolve("nothing")
                .toString()))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CONVEYOR_JAVA");
        assertThat(ServiceJvm.fromEnvironment(Map.of()).java().toString()).startsWith(System.getProperty(
                "java.home"));
    }

    @Test
    void theCacheFileChangesWithTheBuildTheJdkAndTheOptions() throws IOException {
        ServiceJvm jvm = ServiceJvm.of(fakeJdk("25.0.3"), true);
        Path aot = dir.resolve("aot");
        Path cache = jvm.cacheFile(aot, "versioner", OPTIONS, "build-1");
        assertThat(jvm.cacheFile(aot, "versioner", OPTIONS, "build-1")).isEqualTo(cache);
        assertThat(cache.getFileName().toString()).startsWith("versioner-jdk25.0.3-").endsWith(".aot");
        assertThat(jvm.cacheFile(aot, "versioner", OPTIONS, "build-2")).as("another build").isNotEqualTo(cache);
        assertThat(jvm.cacheFile(aot, "versioner", List.of("-Xmx256m"), "build-1")).as("other options").isNotEqualTo(
                cache);
        assertThat(ServiceJvm.of(fakeJdk("25.0.4"), true).cacheFile(aot, "versioner", OPTIONS, "build-1")).as(
                "another JDK").isNotEqualTo(cache);
        assertThat(ServiceJvm.of(fakeJdk("17.0.15"), true).cacheFile(aot, "versioner", OPTIONS, "build-1")
                .getFileName().toString()).startsWith("versioner-jdk17.0.15-").endsWith(".jsa");
    }

    @Test
    void theFirstReplicaTrainsWhenThereIsNoCacheAndEveryReplicaUsesItOnceThereIs() throws IOException {
        ServiceJvm jvm = ServiceJvm.of(fakeJdk("25.0.3"), true);
        Path cache = jvm.cacheFile(dir.resolve("aot"), "versioner", OPTIONS, "build-1");
        assertThat(jvm.aotOptions(cache, true)).containsExactly("-XX:AOTCacheOutput=" + cache);
        assertThat(jvm.aotOptions(cache, false)).as("a second replica does not train").isEmpty();
        Files.createDirectories(cache.getParent());
        Files.writeString(cache, "a complete cache");
        assertThat(jvm.aotOptions(cache, true)).containsExactly("-XX:AOTCache=" + cache);
        assertThat(jvm.aotOptions(cache, false)).containsExactly("-XX:AOTCache=" + cache);
        assertThat(ServiceJvm.of(fakeJdk("25.0.3"), false).aotOptions(cache, true)).as("CONVEYOR_AOT=off").isEmpty();
    }

    @Test
    void onJdk17TheFirstReplicaTrainsADynamicArchiveAndEveryReplicaUsesIt() throws IOException {
        ServiceJvm jvm = ServiceJvm.of(fakeJdk("17.0.15"), true);
        Path cache = jvm.cacheFile(dir.resolve("aot"), "versioner", OPTIONS, "build-1");
        assertThat(jvm.aotOptions(cache, true)).containsExactly("-XX:+VerifySharedSpaces",
                "-XX:ArchiveClassesAtExit=" + cache);
        assertThat(jvm.aotOptions(cache, false)).as("a second replica does not train").isEmpty();
        Files.createDirectories(cache.getParent());
        Files.writeString(cache, "a complete archive");
        assertThat(jvm.aotOptions(cache, false)).containsExactly("-XX:+VerifySharedSpaces", "-XX:SharedArchiveFile="
                + cache);
        assertThat(jvm.caches("versioner")).isTrue();
        assertThat(jvm.caches("flux-sync")).as("writes no archive in the stack").isFalse();
        assertThat(ServiceJvm.of(fakeJdk("25.0.3"), true).caches("flux-sync")).as("its AOT cache works").isTrue();
        assertThat(ServiceJvm.training(List.of("java", "-XX:ArchiveClassesAtExit=" + cache))).isTrue();
        assertThat(ServiceJvm.usesCache(List.of("java", "-XX:SharedArchiveFile=" + cache))).isTrue();
        assertThat(ServiceJvm.of(fakeJdk("17.0.15"), false).aotOptions(cache, true)).as("CONVEYOR_AOT=off").isEmpty();
    }

    /** A dump killed before its header was written, and a cache truncated after its first use, are no cache. */
    @Test
    void anInterruptedDumpOrATruncatedCacheIsTrainedAgain() throws IOException {
        ServiceJvm jvm = ServiceJvm.of(fakeJdk("17.0.15"), true);
        Path cache = jvm.cacheFile(Files.createDirectories(dir.resolve("aot")), "versioner", OPTIONS, "build-1");
        String train = "-XX:ArchiveClassesAtExit=" + cache;
        // The JVM writes the header, at offset 0, last: killed before, the file starts with zeros.
        Files.write(cache, new byte[4096]);
        assertThat(jvm.aotOptions(cache, true)).contains(train);
        assertThat(jvm.aotOptions(cache, false)).isEmpty();

        Files.writeString(cache, "a complete archive of some size");
        List<String> use = jvm.aotOptions(cache, true);
        ServiceJvm.prepareStart(use);
        assertThat(Path.of(cache + ".size")).hasContent(Long.toString(Files.size(cache)));
        assertThat(jvm.aotOptions(cache, true)).as("its recorded size").isEqualTo(use);
        Files.writeString(cache, "a complete archive");
        assertThat(jvm.aotOptions(cache, true)).as("truncated since").contains(train);

        ServiceJvm.prepareStart(jvm.aotOptions(cache, true));
        assertThat(cache).as("a training start deletes the broken file, should it be killed too").doesNotExist();
        assertThat(Path.of(cache + ".size")).doesNotExist();
    }

    /** A JVM that dies while writing its cache (JDK 17.0.15 does) must not train, and crash, at every start. */
    @Test
    void aCacheThatTrainingStartsNeverWroteIsNotTrainedAgain() throws IOException {
        ServiceJvm jvm = ServiceJvm.of(fakeJdk("17.0.15"), true);
        Path aot = Files.createDirectories(dir.resolve("aot"));
        Path cache = jvm.cacheFile(aot, "versioner", OPTIONS, "build-1");
        for (int start = 0; start < ServiceJvm.TRAINING_STARTS; start++) {
            List<String> options = jvm.aotOptions(cache, true);
            assertThat(options).as("training start %d", start + 1).contains("-XX:ArchiveClassesAtExit=" + cache);
            ServiceJvm.prepareStart(options); // ... and the JVM dies writing the archive: nothing is left
        }
        assertThat(jvm.aotOptions(cache, true)).as("after %d training starts without a cache",
                ServiceJvm.TRAINING_STARTS).isEmpty();
        Path next = jvm.cacheFile(aot, "versioner", OPTIONS, "build-2");
        assertThat(jvm.aotOptions(next, true)).as("a new build trains again").contains("-XX:ArchiveClassesAtExit="
                + next);
        ServiceJvm.prepareStart(jvm.aotOptions(next, true));
        assertThat(Path.of(cache + ".tries")).as("the old build's count goes with its cache").doesNotExist();

        Path other = jvm.cacheFile(aot, "gateway", OPTIONS, "build-1");
        List<String> training = jvm.aotOptions(other, true);
        ServiceJvm.prepareStart(training);
        Files.writeString(other, "a complete archive"); // written at its exit
        assertThat(jvm.aotOptions(other, true)).as("a cache written on the first training start is used").contains(
                "-XX:SharedArchiveFile=" + other);
    }

    @Test
    void aTrainingStartDeletesOnlyTheServicesOtherCaches() throws IOException {
        ServiceJvm jvm = ServiceJvm.of(fakeJdk("25.0.3"), true);
        Path aot = Files.createDirectories(dir.resolve("aot"));
        Path old = jvm.cacheFile(aot, "flux-sync", OPTIONS, "build-1");
        Path other = jvm.cacheFile(aot, "gateway", OPTIONS, "build-1");
        Files.writeString(old, "old");
        Files.writeString(Path.of(old + ".config"), "left by a killed training run");
        Files.writeString(other, "other");
        Path cache = jvm.cacheFile(aot, "flux-sync", OPTIONS, "build-2");
        ServiceJvm.prepareStart(List.of("java", "-XX:AOTCacheOutput=" + cache, "-jar", "run.jar"));
        assertThat(old).doesNotExist();
        assertThat(Path.of(old + ".config")).doesNotExist();
        assertThat(other).exists();

        ServiceJvm jdk17 = ServiceJvm.of(fakeJdk("17.0.15"), true);
        Path oldArchive = jdk17.cacheFile(aot, "flux-sync", OPTIONS, "build-1");
        Files.writeString(oldArchive, "old");
        Files.writeString(Path.of(oldArchive + ".size"), "3");
        Path otherArchive = jdk17.cacheFile(aot, "flux-sync-2", OPTIONS, "build-1");
        Files.writeString(otherArchive, "another service");
        ServiceJvm.prepareStart(List.of("java", "-XX:+VerifySharedSpaces", "-XX:ArchiveClassesAtExit=" + jdk17
                .cacheFile(aot, "flux-sync", OPTIONS, "build-2"), "-jar", "run.jar"));
        assertThat(oldArchive).as("another build's archive").doesNotExist();
        assertThat(Path.of(oldArchive + ".size")).doesNotExist();
        assertThat(cache).as("another JDK's cache of a newer build").doesNotExist();
        assertThat(otherArchive).exists();
        assertThat(other).exists();
    }

    @Test
    void theLaunchDigestIsTheSameWhetherAStartTrainsOrUsesTheCache() {
        List<String> training = List.of("java", "-Xmx384m", "-XX:AOTCacheOutput=/d/aot/v.aot", "-jar", "run.jar");
        List<String> cached = List.of("java", "-Xmx384m", "-XX:AOTCache=/d/aot/v.aot", "-jar", "run.jar");
        assertThat(ProcessFingerprint.launch(ServiceJvm.withoutAot(training), Map.of(), Map.of())).isEqualTo(
                ProcessFingerprint.launch(ServiceJvm.withoutAot(cached), Map.of(), Map.of()));
        assertThat(ProcessFingerprint.launch(ServiceJvm.withoutAot(List.of("java25", "-jar", "run.jar")), Map.of(),
                Map.of())).as("another JVM is another launch").isNotEqualTo(ProcessFingerprint.launch(ServiceJvm
                        .withoutAot(List.of("java", "-jar", "run.jar")), Map.of(), Map.of()));
        assertThat(ServiceJvm.training(training)).isTrue();
        assertThat(ServiceJvm.training(cached)).isFalse();
        List<String> cdsTraining = List.of("java", "-Xmx384m", "-XX:+VerifySharedSpaces",
                "-XX:ArchiveClassesAtExit=/d/aot/v.jsa", "-jar", "run.jar");
        List<String> cdsCached = List.of("java", "-Xmx384m", "-XX:+VerifySharedSpaces",
                "-XX:SharedArchiveFile=/d/aot/v.jsa", "-jar", "run.jar");
        assertThat(ServiceJvm.withoutAot(cdsTraining)).isEqualTo(ServiceJvm.withoutAot(cdsCached)).isEqualTo(List.of(
                "java", "-Xmx384m", "-jar", "run.jar"));
    }

    /**
     * With a real JDK 25: a training run writes the cache at exit, the next start uses it, and a truncated cache (a
     * training run killed while writing it) does not stop a start.
     */
    @Test
    void aRealJdk25TrainsUsesAndSurvivesABrokenCache() throws Exception {
        boolean present = Files.isExecutable(JDK25.resolve("bin/java"));
        // Skipped only off CI: a CI machine without the JDK 25 fails here rather than hiding the test.
        assertThat(present || System.getenv("CI") == null).as("CI must have a JDK 25 at %s", JDK25).isTrue();
        assumeTrue(present, "no JDK 25 at " + JDK25);
        ServiceJvm jvm = ServiceJvm.of(JDK25, true);
        Path jar = helloJar(JDK25.resolve("bin"));
        Path cache = jvm.cacheFile(dir.resolve("aot"), "hello", OPTIONS, "build-1");

        List<String> training = jvm.aotOptions(cache, true);
        ServiceJvm.prepareStart(training);
        assertThat(run(command(jvm, training, jar))).contains("hello");
        assertThat(cache).isNotEmptyFile();

        List<String> cached = jvm.aotOptions(cache, true);
        assertThat(cached).containsExactly("-XX:AOTCache=" + cache);
        ServiceJvm.prepareStart(cached);
        List<String> withLog = new ArrayList<>(cached);
        withLog.add("-Xlog:class+load=info");
        assertThat(run(command(jvm, withLog, jar))).contains("Hello source: shared objects file").contains(
                "hello");

        byte[] bytes = Files.readAllBytes(cache);
        Files.write(cache, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertThat(run(command(jvm, cached, jar))).as("a truncated cache given to the JVM: warned, ignored")
                .contains("hello").contains("truncated");
        assertThat(jvm.aotOptions(cache, true)).as("the launcher trains it again").containsExactly(
                "-XX:AOTCacheOutput=" + cache);
    }

    /**
     * With the JDK 17 Maven runs on: a training run writes the dynamic archive at exit, the next start uses it; a
     * damaged archive of the same size is refused by its checksums and the JVM starts without it; an interrupted dump
     * (header still zero) and a truncated archive are trained again.
     */
    @Test
    void aRealJdk17TrainsUsesAndSurvivesABrokenArchive() throws Exception {
        ServiceJvm jvm = ServiceJvm.current(true);
        boolean cds = jvm.feature() >= ServiceJvm.CDS_FEATURE && jvm.feature() < ServiceJvm.AOT_FEATURE;
        // Skipped only off CI: CI runs verify on JDK 17, so a CI whose Maven JVM is not a JDK 13-24 fails here.
        assertThat(cds || System.getenv("CI") == null).as("CI must run on a JDK 13-24, not %s", jvm.version())
                .isTrue();
        assumeTrue(cds, "not a JDK 13-24: " + jvm.version());
        Path jar = helloJar(Path.of(System.getProperty("java.home"), "bin"));
        Path cache = jvm.cacheFile(dir.resolve("aot"), "hello", OPTIONS, "build-1");

        List<String> training = jvm.aotOptions(cache, true);
        assertThat(ServiceJvm.training(training)).isTrue();
        ServiceJvm.prepareStart(training);
        assertThat(run(command(jvm, training, jar))).contains("hello");
        assertThat(cache).isNotEmptyFile();

        List<String> cached = jvm.aotOptions(cache, true);
        assertThat(cached).containsExactly("-XX:+VerifySharedSpaces", "-XX:SharedArchiveFile=" + cache);
        ServiceJvm.prepareStart(cached);
        List<String> withLog = new ArrayList<>(cached);
        withLog.add("-Xlog:class+load=info");
        assertThat(run(command(jvm, withLog, jar))).contains("Hello source: shared objects file (top)").contains(
                "hello");

        byte[] bytes = Files.readAllBytes(cache);
        byte[] damaged = bytes.clone();
        for (int i = bytes.length / 2; i < bytes.length / 2 + 4096; i++) {
            damaged[i] ^= (byte) 0x5a;
        }
        Files.write(cache, damaged);
        assertThat(jvm.aotOptions(cache, true)).as("same size: the launcher cannot tell").isEqualTo(cached);
        assertThat(run(command(jvm, cached, jar))).as("damaged: the checksums refuse it").contains("hello").contains(
                "Unable to use shared archive");

        byte[] interrupted = bytes.clone();
        java.util.Arrays.fill(interrupted, 0, 4096, (byte) 0);
        Files.write(cache, interrupted);
        assertThat(run(command(jvm, cached, jar))).as("an interrupted dump given to the JVM").contains("hello");
        assertThat(jvm.aotOptions(cache, true)).as("an interrupted dump: trained again").isEqualTo(training);

        Files.write(cache, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertThat(jvm.aotOptions(cache, true)).as("truncated: trained again").isEqualTo(training);
        ServiceJvm.prepareStart(training);
        assertThat(run(command(jvm, training, jar))).contains("hello");
        assertThat(jvm.aotOptions(cache, true)).isEqualTo(cached);
    }

    /** A jar of a class printing {@code hello}, built with the JDK tools in {@code bin}. */
    private Path helloJar(Path bin) throws Exception {
        Path src = dir.resolve("Hello.java");
        Files.writeString(src, "public class Hello { public static void main(String[] a) {"
                + " System.out.println(\"hello \" + java.util.List.of(a)); } }");
        Path classes = Files.createDirectories(dir.resolve("classes"));
        assertThat(run(List.of(bin.resolve("javac").toString(), "-d", classes.toString(), src.toString()))).isEmpty();
        // A jar, as the services run: the JVM refuses to write a cache for a class path with a non-empty directory.
        Path jar = dir.resolve("hello.jar");
        run(List.of(bin.resolve("jar").toString(), "cf", jar.toString(), "-C", classes.toString(), "."));
        return jar;
    }

    private static List<String> command(ServiceJvm jvm, List<String> aot, Path classpath) {
        List<String> c = new ArrayList<>(List.of(jvm.java().toString()));
        c.addAll(OPTIONS);
        c.addAll(aot);
        c.addAll(List.of("-cp", classpath.toString(), "Hello"));
        return c;
    }

    private static String run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    private Path fakeJdk(String version) throws IOException {
        Path home = Files.createDirectories(dir.resolve("jdk-" + version));
        Path java = Files.createDirectories(home.resolve("bin")).resolve("java");
        Files.writeString(java, "#!/bin/sh\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"test\"\nJAVA_VERSION=\"" + version + "\"\n");
        return home;
    }
}
