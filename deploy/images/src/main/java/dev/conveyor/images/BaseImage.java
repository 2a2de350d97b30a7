package dev.conveyor.images;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.JibContainerBuilder;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import com.google.cloud.tools.jib.api.buildplan.FilePermissions;

/**
 * The JDK 25 base image of the services, built from scratch out of the host's JDK: no base image is pulled, no daemon
 * runs.
 *
 * <p>
 * Three layers: {@code etc} ({@code /etc/passwd} and {@code /etc/group} with root and user {@value #USER_NAME}
 * {@value #UID}:{@value #UID} — the user the chart's {@code fsGroup} expects —, {@code /etc/hosts},
 * {@code /etc/nsswitch.conf}, {@code /etc/os-release}, and a world-writable {@code /tmp}); {@code libs} (every shared
 * library {@code ldd} says the JDK's executables and libraries, and the extra native libraries given, need, at the path
 * {@code ldd} printed, as regular files); {@code jdk} (the JDK at {@value #JAVA_HOME} without what only a developer
 * uses: {@code include/}, {@code man/}, {@code jmods/}, {@code lib/src.zip}, {@code lib/ct.sym}). Every entry has
 * Jib's fixed time stamp and a mode of 755 (executable or directory) or 644, so the same JDK and libraries give the
 * same digest on every build and machine.
 */
final class BaseImage {

    /** Where the JDK is in the image. */
    static final String JAVA_HOME = "/opt/java/openjdk";
    /** The user the images run as: the chart's {@code fsGroup} (and the UBI OpenJDK images') 185. */
    static final int UID = 185;
    static final String USER_NAME = "default";

    /** What a runtime does not need of a JDK (paths relative to its home). */
    private static final List<String> LEFT_OUT = List.of("include", "man", "jmods", "lib/src.zip", "lib/ct.sym",
            "demo");

    private static final Pattern JAVA_VERSION = Pattern.compile("^JAVA_RUNTIME_VERSION=\"([^\"]+)\"",
            Pattern.MULTILINE);

    private BaseImage() {
    }

    /** The files of the {@code etc} layer, by their path in the image. */
    static Map<String, String> etcFiles(String jdkVersion) {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("/etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\n" + USER_NAME + ":x:" + UID + ":" + UID
                + ":Conveyor service:/tmp:/sbin/nologin\n");
        files.put("/etc/group", "root:x:0:\n" + USER_NAME + ":x:" + UID + ":\n");
        files.put("/etc/hosts", "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n");
        files.put("/etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n");
        files.put("/etc/os-release", "NAME=\"Conveyor JDK base\"\nID=conveyor-jdk\nVERSION_ID=\"" + jdkVersion
                + "\"\nPRETTY_NAME=\"Conveyor JDK " + jdkVersion + " base\"\n");
        return files;
    }

    /** The JDK's runtime version from its {@code release} file ({@code 25.0.3+9-LTS}). */
    static String jdkVersion(Path jdkHome) {
        try {
            Matcher m = JAVA_VERSION.matcher(Files.readString(jdkHome.resolve("release"), StandardCharsets.UTF_8));
            if (!m.find()) {
                throw new IllegalArgumentException("jdk: no JAVA_RUNTIME_VERSION in " + jdkHome.resolve("release"));
            }
            return m.group(1);
        } catch (IOException e) {
            throw new IllegalArgumentException("jdk: " + jdkHome + " is not a JDK (no readable release file)", e);
        }
    }

    /** The JDK's files that go into the image, sorted. */
    static List<Path> jdkFiles(Path jdkHome) {
        try (Stream<Path> walk = Files.walk(jdkHome)) {
            return walk.filter(p -> !p.equals(jdkHome)).filter(p -> LEFT_OUT.stream().noneMatch(
                    out -> jdkHome.relativize(p).startsWith(out))).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + jdkHome, e);
        }
    }

    /**
     * The base image's build plan.
     *
     * @param jdkHome the JDK to copy (25 or newer for AOT caches)
     * @param nativeLibraries ELF files the services load besides the JDK (helm-java's, JNA's): their libraries are
     *     added too
     * @param scratch a directory for the {@code etc} files
     */
    static JibContainerBuilder builder(Path jdkHome, Collection<Path> nativeLibraries, Path scratch)
            throws IOException {
        Path home = jdkHome.toRealPath();
        String version = jdkVersion(home);
        List<Path> jdk = jdkFiles(home);
        List<Path> elf = new ArrayList<>(jdk);
        elf.addAll(nativeLibraries);
        Set<String> libraries = new TreeSet<>(SharedLibraries.neededBy(elf, home));

        FileEntriesLayer.Builder etc = FileEntriesLayer.builder().setName("etc");
        for (Map.Entry<String, String> file : etcFiles(version).entrySet()) {
            Path source = scratch.resolve(file.getKey().substring(1).replace('/', '_'));
            Files.writeString(source, file.getValue(), StandardCharsets.UTF_8);
            etc.addEntry(source, AbsoluteUnixPath.get(file.getKey()), FilePermissions.fromOctalString("644"));
        }
        // A world-writable /tmp (Jib's modes have no sticky bit); the chart mounts an emptyDir there anyway.
        Path tmp = Files.createDirectories(scratch.resolve("tmp-dir"));
        etc.addEntry(tmp, AbsoluteUnixPath.get("/tmp"), FilePermissions.fromOctalString("777"));

        FileEntriesLayer.Builder libs = FileEntriesLayer.builder().setName("libs");
        for (String library : libraries) {
            libs.addEntry(Path.of(library).toRealPath(), AbsoluteUnixPath.get(library), FilePermissions
                    .fromOctalString("755"));
        }

        FileEntriesLayer.Builder jdkLayer = FileEntriesLayer.builder().setName("jdk");
        for (Path file : jdk) {
            jdkLayer.addEntry(file, AbsoluteUnixPath.get(JAVA_HOME).resolve(home.relativize(file).toString()),
                    mode(file));
        }

        return Jib.fromScratch().addFileEntriesLayer(etc.build()).addFileEntriesLayer(libs.build())
                .addFileEntriesLayer(jdkLayer.build()).setUser(UID + ":" + UID)
                .addEnvironmentVariable("JAVA_HOME", JAVA_HOME)
                .addEnvironmentVariable("PATH", JAVA_HOME + "/bin:/usr/bin:/bin")
                .addEnvironmentVariable("LANG", "C.UTF-8")
                .addLabel("org.opencontainers.image.title", "Conveyor JDK base")
                .addLabel("dev.conveyor.jdk.version", version);
    }

    /** 755 for directories and executables, 644 for the rest: the owner's x bit decides. */
    static FilePermissions mode(Path file) {
        try {
            boolean x = Files.isDirectory(file) || Files.getPosixFilePermissions(file).contains(
                    PosixFilePermission.OWNER_EXECUTE);
            return FilePermissions.fromOctalString(x ? "755" : "644");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the mode of " + file, e);
        }
    }
}
