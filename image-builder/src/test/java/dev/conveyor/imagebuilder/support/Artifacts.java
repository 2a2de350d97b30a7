package dev.conveyor.imagebuilder.support;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.zip.GZIPOutputStream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/** Builds test artifacts with fixed timestamps, so the same arguments always give the same bytes. */
public final class Artifacts {

    private static final long FIXED_TIME = 1_700_000_000_000L;

    private Artifacts() {
    }

    /**
     * A runnable fat jar: {@code Main-Class}, {@code classes} small class-like files under {@code com/example/}, and
     * {@code dependencies} nested jars of {@code dependencyBytes} random (incompressible) bytes each under
     * {@code lib/}. {@code appSeed} changes the application's files only.
     */
    public static Path fatJar(Path file, String mainClass, int classes, int dependencies, int dependencyBytes,
            long appSeed) {
        return fatJar(file, mainClass, classes, dependencies, dependencyBytes, appSeed, 42);
    }

    /** As above, with the seed of the dependencies' content. */
    public static Path fatJar(Path file, String mainClass, int classes, int dependencies, int dependencyBytes,
            long appSeed, long dependencySeed) {
        try {
            Files.createDirectories(file.getParent());
            Manifest manifest = new Manifest();
            manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
            manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, mainClass);
            try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(file))) {
                JarEntry manifestEntry = new JarEntry("META-INF/MANIFEST.MF");
                manifestEntry.setTime(FIXED_TIME);
                jar.putNextEntry(manifestEntry);
                manifest.write(jar);
                jar.closeEntry();
                for (int i = 0; i < classes; i++) {
                    put(jar, "com/example/C" + i + ".class", ("class " + i + " seed " + appSeed)
                            .getBytes(StandardCharsets.UTF_8));
                }
                Random random = new Random(dependencySeed);
                for (int i = 0; i < dependencies; i++) {
                    byte[] bytes = new byte[dependencyBytes];
                    random.nextBytes(bytes);
                    put(jar, String.format("lib/dep-%02d.jar", i), bytes);
                }
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A tar.gz of files (path to content); paths under {@code bin/} are executable. */
    public static Path tarGz(Path file, Map<String, String> files) {
        try {
            Files.createDirectories(file.getParent());
            try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file));
                    TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
                for (Map.Entry<String, String> entry : new java.util.TreeMap<>(files).entrySet()) {
                    byte[] bytes = entry.getValue().getBytes(StandardCharsets.UTF_8);
                    TarArchiveEntry tarEntry = new TarArchiveEntry(entry.getKey());
                    tarEntry.setSize(bytes.length);
                    tarEntry.setMode(entry.getKey().startsWith("bin/") ? 0100755 : 0100644);
                    tarEntry.setModTime(FIXED_TIME);
                    tar.putArchiveEntry(tarEntry);
                    tar.write(bytes);
                    tar.closeArchiveEntry();
                }
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The file's sha256 as 64 hex digits. */
    public static String sha256(Path file) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void put(JarOutputStream jar, String name, byte[] bytes) throws IOException {
        JarEntry entry = new JarEntry(name);
        entry.setTime(FIXED_TIME);
        jar.putNextEntry(entry);
        jar.write(bytes);
        jar.closeEntry();
    }
}
