package dev.conveyor.stage.helm;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Makes helm-java's {@code template} return hooks and tests. helm-java (0.0.19) returns only the release manifest: Helm
 * files every rendered document annotated {@code helm.sh/hook} apart, and neither its template nor its dry-run install
 * hands those back. So, in the chart copy being rendered, the annotation prefix is renamed to a stand-in wherever it is
 * written (templates, helpers, values, unpacked subcharts); Helm then keeps those documents with the manifest, and the
 * stand-in is renamed back in the output, which thus reads as {@code helm template} prints it, annotations included.
 * <p>
 * Pure file and text work (no Helm here): the caller renders with whatever Helm it has, on a chart copy it owns, since
 * {@link #prepare} changes the files in place. Used by manifest-renderer and flux-sync.
 */
public final class HookRenaming {

    /**
     * The hook annotation prefix ({@code helm.sh/hook}, {@code helm.sh/hook-weight}, {@code helm.sh/hook-delete-policy}).
     */
    public static final String PREFIX = "helm.sh/hook";

    /** What {@link #PREFIX} is renamed to while rendering: a name no chart uses (an {@code .invalid} domain). */
    public static final String STAND_IN = "hook.conveyor-renamed.invalid/helm-sh";

    private static final long MAX_UNPACKED_BYTES = 64L * 1024 * 1024;

    /**
     * A chart that cannot be prepared: it already holds the stand-in, or a packaged chart is malformed, too large, or
     * holds a path outside itself. The message names the file; callers turn it into their own render failure.
     */
    public static final class Refused extends RuntimeException {
        public Refused(String message) {
            super(message);
        }
    }

    private HookRenaming() {
    }

    /**
     * Unpacks packaged subcharts and renames the hook annotation in every text file of the chart and values.
     *
     * @throws Refused when the chart cannot be prepared (see {@link Refused})
     * @throws UncheckedIOException when a file cannot be read or written
     */
    public static void prepare(Path chartDir, List<Path> valuesFiles) {
        try {
            unpackSubcharts(chartDir);
            try (Stream<Path> files = Files.walk(chartDir)) {
                for (Path file : files.filter(Files::isRegularFile).toList()) {
                    renameIn(file);
                }
            }
            for (Path values : valuesFiles) {
                renameIn(values);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code text} (a {@code --set} key or value, values written by the caller) with the hook prefix renamed. */
    public static String rename(String text) {
        return text.replace(PREFIX, STAND_IN);
    }

    /** Helm's output (or its error message) with the stand-in renamed back; null stays null. */
    public static String restore(String text) {
        return text == null ? null : text.replace(STAND_IN, PREFIX);
    }

    /**
     * Unpacks a chart archive ({@code .tgz}, as {@code helm package} writes it and Helm repositories serve it) into
     * {@code into} (an empty directory the caller owns) and returns the chart's directory, its single top-level entry.
     *
     * @throws Refused when the archive does not hold exactly one chart directory, or holds a path outside itself
     */
    public static Path unpackChart(Path archive, Path into) {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(archive))) {
            untar(in, into);
            try (Stream<Path> tops = Files.list(into)) {
                List<Path> dirs = tops.toList();
                if (dirs.size() != 1 || !Files.isDirectory(dirs.get(0))) {
                    throw new Refused(archive.getFileName() + " does not hold one chart directory");
                }
                return dirs.get(0);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void renameIn(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return; // not text: nothing Helm reads as a template or values
        }
        if (text.contains(STAND_IN)) {
            throw new Refused(file.getFileName() + " contains " + STAND_IN + ", which Conveyor uses to render hooks");
        }
        if (text.contains(PREFIX)) {
            Files.writeString(file, rename(text));
        }
    }

    /** Replaces every {@code charts/*.tgz} (recursively) by the directory it holds, which Helm loads the same way. */
    private static void unpackSubcharts(Path chartDir) throws IOException {
        Path charts = chartDir.resolve("charts");
        if (!Files.isDirectory(charts)) {
            return;
        }
        try (Stream<Path> list = Files.list(charts)) {
            for (Path entry : list.toList()) {
                if (Files.isRegularFile(entry) && entry.getFileName().toString().endsWith(".tgz")) {
                    Path unpacked = Files.createTempDirectory(charts, ".unpack-");
                    try (InputStream in = new GZIPInputStream(Files.newInputStream(entry))) {
                        untar(in, unpacked);
                    }
                    try (Stream<Path> tops = Files.list(unpacked)) {
                        for (Path top : tops.toList()) {
                            Path target = charts.resolve(top.getFileName().toString());
                            if (Files.exists(target)) {
                                throw new Refused("charts/ holds " + top.getFileName() + " both as a directory and in "
                                        + entry.getFileName());
                            }
                            Files.move(top, target);
                        }
                    }
                    Files.delete(unpacked);
                    Files.delete(entry);
                }
            }
        }
        try (Stream<Path> list = Files.list(charts)) {
            for (Path sub : list.filter(Files::isDirectory).toList()) {
                unpackSubcharts(sub);
            }
        }
    }

    /** A plain ustar/GNU/PAX reader for Helm's chart archives: regular files and directories, names kept inside. */
    private static void untar(InputStream in, Path into) throws IOException {
        byte[] header = new byte[512];
        String longName = null;
        long total = 0;
        while (readFully(in, header)) {
            if (isZero(header)) {
                break;
            }
            String name = longName != null ? longName : field(header, 0, 100);
            longName = null;
            String prefix = field(header, 345, 155);
            if (!prefix.isEmpty() && header[257] == 'u') {
                name = prefix + "/" + name;
            }
            long size = Long.parseLong(field(header, 124, 12).trim().isEmpty() ? "0" : field(header, 124, 12).trim(),
                    8);
            total += size;
            if (total > MAX_UNPACKED_BYTES) {
                throw new Refused("a packaged chart unpacks to more than " + MAX_UNPACKED_BYTES + " bytes");
            }
            char type = (char) header[156];
            byte[] data = readData(in, size);
            if (type == 'L') {
                longName = new String(data, StandardCharsets.UTF_8).replace("\0", "");
                continue;
            }
            if (type == 'x') {
                for (String record : new String(data, StandardCharsets.UTF_8).split("\n")) {
                    int at = record.indexOf(" path=");
                    if (at >= 0) {
                        longName = record.substring(at + " path=".length());
                    }
                }
                continue;
            }
            if (type == 'g') {
                continue;
            }
            Path target = into.resolve(name).normalize();
            if (!target.startsWith(into) || name.startsWith("/")) {
                throw new Refused("a packaged chart holds a path outside itself: " + name);
            }
            if (type == '5') {
                Files.createDirectories(target);
            } else if (type == '0' || type == '\0') {
                Files.createDirectories(target.getParent());
                Files.write(target, data);
            }
            // links and devices are not part of a chart: left out
        }
    }

    private static byte[] readData(InputStream in, long size) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(size, 1 << 20));
        byte[] block = new byte[512];
        long left = size;
        while (left > 0) {
            if (!readFully(in, block)) {
                throw new IOException("truncated chart archive");
            }
            out.write(block, 0, (int) Math.min(512, left));
            left -= 512;
        }
        return out.toByteArray();
    }

    private static boolean readFully(InputStream in, byte[] buffer) throws IOException {
        int read = 0;
        while (read < buffer.length) {
            int n = in.read(buffer, read, buffer.length - read);
            if (n < 0) {
                return false;
            }
            read += n;
        }
        return true;
    }

    private static boolean isZero(byte[] block) {
        for (byte b : block) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private static String field(byte[] header, int offset, int length) {
        int end = offset;
        while (end < offset + length && header[end] != 0) {
            end++;
        }
        return new String(header, offset, end - offset, StandardCharsets.UTF_8);
    }
}
