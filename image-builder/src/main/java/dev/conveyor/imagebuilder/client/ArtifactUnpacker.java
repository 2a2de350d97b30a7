package dev.conveyor.imagebuilder.client;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import dev.conveyor.imagebuilder.domain.JarLayout;
import dev.conveyor.imagebuilder.service.ImageBuilderFailure;
import dev.conveyor.stage.StageException;

/**
 * Unpacks artifacts safely: entries that would land outside the target directory, links, too many entries and too many
 * bytes (archive bombs) are refused with {@code ARTIFACT_INVALID}.
 */
public final class ArtifactUnpacker {

    /** A file unpacked from an archive: its path relative to the root, where it is on disk and its Unix mode. */
    public record UnpackedFile(String name, Path file, int mode) {
    }

    /** An exploded jar: its files (sorted by name) and the manifest's {@code Main-Class}. */
    public record ExplodedJar(List<UnpackedFile> files, Optional<String> mainClass) {

        public List<String> names() {
            return files.stream().map(UnpackedFile::name).toList();
        }
    }

    /** Largest inflation of one jar entry; real class and resource files stay far below it. */
    static final long MAX_RATIO = 200;
    /** Entries smaller than this once inflated are never taken for bombs, whatever their ratio. */
    static final long RATIO_FLOOR = 1024 * 1024;

    private final long maxBytes;
    private final int maxEntries;

    public ArtifactUnpacker(long maxBytes, int maxEntries) {
        this.maxBytes = maxBytes;
        this.maxEntries = maxEntries;
    }

    /** Explodes a jar into {@code into}. */
    public ExplodedJar explodeJar(Path jar, Path into) {
        return explodeJar(jar, into, null);
    }

    /**
     * Explodes a jar into {@code into}, except its nested dependency jars when {@code store} is given: those are kept in
     * {@code store}, one file per content named by its sha256 and kept between builds, and written there only when
     * absent. A dependency unchanged since an earlier build is inflated and hashed, never written again; its file (a
     * stable path with a content-derived time) lets Jib's layer cache find the layer without reading it.
     *
     * @param store the content-addressed directory of dependency jars, or null to unpack everything into {@code into}
     */
    public ExplodedJar explodeJar(Path jar, Path into, Path store) {
        List<UnpackedFile> files = new ArrayList<>();
        long total = 0;
        try (JarFile file = new JarFile(jar.toFile(), false)) {
            Manifest manifest = file.getManifest();
            Optional<String> mainClass = Optional.ofNullable(manifest)
                    .map(m -> m.getMainAttributes().getValue(Attributes.Name.MAIN_CLASS)).map(String::trim)
                    .filter(s -> !s.isEmpty());
            for (Enumeration<? extends ZipEntry> entries = file.entries(); entries.hasMoreElements();) {
                ZipEntry entry = entries.nextElement();
                if (entry.isDirectory()) {
                    continue;
                }
                String name = checkName(entry.getName());
                limitEntries(files.size() + 1);
                if (store != null && JarLayout.isDependency(name)) {
                    Drained hashed;
                    try (InputStream in = file.getInputStream(entry)) {
                        hashed = drain(in, null, total, name, inflationCap(entry));
                    }
                    Path stored = store.resolve(HexFormat.of().formatHex(hashed.sha256()));
                    if (!isStored(stored, hashed)) {
                        try (InputStream in = file.getInputStream(entry)) {
                            store(in, stored, hashed, total, name, inflationCap(entry));
                        }
                    }
                    total += hashed.bytes();
                    files.add(new UnpackedFile(name, stored, 0644));
                    continue;
                }
                Path target = into.resolve(name);
                Files.createDirectories(target.getParent());
                try (InputStream in = file.getInputStream(entry)) {
                    total += copyLimited(in, target, total, name, inflationCap(entry));
                }
                files.add(new UnpackedFile(name, target, 0644));
            }
            files.sort(Comparator.comparing(UnpackedFile::name));
            return new ExplodedJar(List.copyOf(files), mainClass);
        } catch (ZipException | SecurityException e) {
            throw invalid("the artifact is not a readable jar: " + e.getMessage());
        } catch (IOException e) {
            throw invalid("cannot unpack the jar: " + e.getMessage());
        }
    }

    /** A stored file is taken when its size and content-derived time match; it is only ever written whole. */
    private static boolean isStored(Path stored, Drained content) {
        try {
            return Files.size(stored) == content.bytes()
                    && Files.getLastModifiedTime(stored).equals(contentTime(content.sha256()));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Writes a dependency into the store: into a temporary file first, checked against the digest of the hashing pass,
     * then moved into place in one atomic step, so a crash never leaves a partial file under a content name.
     */
    private void store(InputStream in, Path stored, Drained expected, long sofar, String name, long cap)
            throws IOException {
        Files.createDirectories(stored.getParent());
        Path temporary = Files.createTempFile(stored.getParent(), stored.getFileName() + ".", ".tmp");
        try {
            Drained written;
            try (OutputStream out = Files.newOutputStream(temporary)) {
                written = drain(in, out, sofar, name, cap);
            }
            if (written.bytes() != expected.bytes() || !java.util.Arrays.equals(written.sha256(), expected
                    .sha256())) {
                throw invalid("the archive entry '" + name + "' read differently twice");
            }
            Files.setLastModifiedTime(temporary, contentTime(written.sha256()));
            Files.move(temporary, stored, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /** Unpacks a tar.gz (or plain tar) into {@code into}; directories are implied by the files. */
    public List<UnpackedFile> unpackTar(Path archive, Path into) {
        List<UnpackedFile> files = new ArrayList<>();
        long total = 0;
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(archive));
                TarArchiveInputStream tar = new TarArchiveInputStream(gunzipIfNeeded(raw))) {
            for (TarArchiveEntry entry = tar.getNextEntry(); entry != null; entry = tar.getNextEntry()) {
                String name = entry.getName();
                while (name.startsWith("./")) {
                    name = name.substring(2);
                }
                if (entry.isDirectory() || name.isEmpty() || name.equals(".")) {
                    continue;
                }
                if (entry.isSymbolicLink() || entry.isLink()) {
                    throw invalid("the archive holds a link at " + name + "; links are not supported, ship the file");
                }
                if (!entry.isFile()) {
                    throw invalid("the archive holds a special file at " + name);
                }
                name = checkName(name);
                limitEntries(files.size() + 1);
                Path target = into.resolve(name);
                Files.createDirectories(target.getParent());
                total += copyLimited(tar, target, total, name, Long.MAX_VALUE);
                String added = name;
                // A later entry of the same name replaces the earlier one, as tar itself does.
                files.removeIf(f -> f.name().equals(added));
                files.add(new UnpackedFile(name, target, entry.getMode() & 0777));
            }
        } catch (IOException | IllegalArgumentException e) {
            throw invalid("the artifact is not a readable tar.gz: " + e.getMessage());
        }
        files.sort(Comparator.comparing(UnpackedFile::name));
        if (files.isEmpty()) {
            throw invalid("the artifact is not a tar.gz with files in it");
        }
        return List.copyOf(files);
    }

    private static InputStream gunzipIfNeeded(InputStream in) throws IOException {
        in.mark(2);
        int first = in.read();
        int second = in.read();
        in.reset();
        return first == 0x1f && second == 0x8b ? new BufferedInputStream(new GZIPInputStream(in)) : in;
    }

    private String checkName(String name) {
        if (!JarLayout.isSafeEntryName(name)) {
            throw invalid("the archive entry '" + name + "' would land outside its directory");
        }
        return name;
    }

    private void limitEntries(int count) {
        if (count > maxEntries) {
            throw invalid("the archive holds more than " + maxEntries + " files");
        }
    }

    /**
     * The most bytes a jar entry may inflate to: {@link #MAX_RATIO} times what it takes in the archive, counted while
     * inflating (the sizes an archive declares can lie), and never less than {@link #RATIO_FLOOR}.
     */
    private static long inflationCap(ZipEntry entry) {
        long compressed = entry.getCompressedSize();
        if (compressed <= 0 || entry.getMethod() != ZipEntry.DEFLATED) {
            return Long.MAX_VALUE;
        }
        return Math.max(RATIO_FLOOR, compressed * MAX_RATIO);
    }

    private long copyLimited(InputStream in, Path target, long sofar, String name, long cap) throws IOException {
        Drained copied;
        try (OutputStream out = Files.newOutputStream(target)) {
            copied = drain(in, out, sofar, name, cap);
        }
        Files.setLastModifiedTime(target, contentTime(copied.sha256()));
        return copied.bytes();
    }

    /** How many bytes an entry held and their sha256. */
    private record Drained(long bytes, byte[] sha256) {
    }

    /** Reads {@code in} to its end within the limits, hashing it and writing it to {@code out} unless null. */
    private Drained drain(InputStream in, OutputStream out, long sofar, String name, long cap) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        long written = 0;
        MessageDigest sha = sha256();
        for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
            written += n;
            if (sofar + written > maxBytes) {
                throw invalid("the archive unpacks to more than " + maxBytes + " bytes (at entry '" + name + "')");
            }
            if (written > cap) {
                throw invalid("the archive entry '" + name + "' inflates to more than " + MAX_RATIO
                        + " times its compressed size (an archive bomb)");
            }
            sha.update(buffer, 0, n);
            if (out != null) {
                out.write(buffer, 0, n);
            }
        }
        return new Drained(written, sha.digest());
    }

    /**
     * A modification time derived from the file's content. Jib reuses a cached layer when the source paths and their
     * modification times are unchanged; a content-derived time makes that hold exactly when the content is unchanged,
     * so an unchanged dependency layer is neither compressed nor hashed again. (The image itself carries Jib's fixed
     * timestamps, not these.)
     */
    static FileTime contentTime(byte[] sha256) {
        long millis = 0;
        for (int i = 0; i < 5; i++) {
            millis = (millis << 8) | (sha256[i] & 0xff);
        }
        return FileTime.fromMillis(millis);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static StageException invalid(String message) {
        return StageException.terminal(ImageBuilderFailure.ARTIFACT_INVALID, message, Map.of("field", "artifact"));
    }
}
