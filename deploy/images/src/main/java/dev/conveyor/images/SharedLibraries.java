package dev.conveyor.images;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The shared libraries that ELF files need, as the host's {@code ldd} resolves them: what a base image must carry
 * for its JDK (and the native libraries the services load) to start.
 */
final class SharedLibraries {

    /** {@code libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)} and the interpreter line {@code /lib64/ld-...}. */
    private static final Pattern RESOLVED = Pattern
            .compile("^\\s*(?:\\S+\\s+=>\\s+)?(/\\S+)\\s+\\(0x[0-9a-f]+\\)\\s*$");
    private static final Pattern NOT_FOUND = Pattern.compile("^\\s*(\\S+)\\s+=>\\s+not found\\s*$");

    private SharedLibraries() {
    }

    /**
     * The absolute paths {@code ldd} prints for one file's output, without files under {@code exclude} (the JDK's own
     * libraries, which the image carries anyway).
     *
     * @throws IllegalStateException when a library is "not found": an image without it would fail at run time
     */
    static Set<String> parse(String lddOutput, String file, Path exclude) {
        Set<String> libraries = new TreeSet<>();
        for (String line : lddOutput.split("\n")) {
            Matcher missing = NOT_FOUND.matcher(line);
            if (missing.matches()) {
                throw new IllegalStateException(file + " needs " + missing.group(1)
                        + ", which the host does not have (ldd: not found)");
            }
            Matcher m = RESOLVED.matcher(line);
            if (m.matches() && !Path.of(m.group(1)).normalize().startsWith(exclude)) {
                libraries.add(m.group(1));
            }
        }
        return libraries;
    }

    /** The libraries every ELF file in {@code files} needs, outside {@code exclude}; non-ELF files are skipped. */
    static Set<String> neededBy(Collection<Path> files, Path exclude) {
        Set<String> libraries = new TreeSet<>();
        for (Path file : files) {
            if (isElf(file)) {
                libraries.addAll(parse(ldd(file, exclude), file.toString(), exclude.normalize()));
            }
        }
        return libraries;
    }

    static boolean isElf(Path file) {
        if (!Files.isRegularFile(file)) {
            return false;
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static String ldd(Path file, Path jdkHome) {
        try {
            ProcessBuilder builder = new ProcessBuilder("ldd", file.toString()).redirectErrorStream(true);
            // The JDK's libraries link against each other (libjvm.so in lib/server), as the running JVM resolves them.
            builder.environment().put("LD_LIBRARY_PATH", jdkHome.resolve("lib") + ":" + jdkHome.resolve(
                    "lib/server"));
            Process p = builder.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int code = p.waitFor();
            // ldd exits 1 for a static executable ("not a dynamic executable"): it needs nothing.
            if (code != 0 && !out.contains("not a dynamic executable")) {
                throw new IllegalStateException("ldd " + file + " failed (" + code + "): " + out.strip());
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run ldd (Debian package libc-bin) on " + file, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running ldd on " + file, e);
        }
    }
}
