package dev.conveyor.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/** Unique temporary directories, removed again when a server closes. */
public final class TempDirs {

    private TempDirs() {
    }

    /** A new directory under {@code java.io.tmpdir} whose name starts with {@code conveyor-<prefix>-}. */
    public static Path create(String prefix) {
        try {
            return Files.createTempDirectory("conveyor-" + prefix + "-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory for " + prefix, e);
        }
    }

    /** Deletes a directory tree; a missing directory is fine. Failures are ignored so cleanup never masks a test. */
    public static void deleteQuietly(Path root) {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // Best effort: a leftover temp directory is harmless, a cleanup exception hiding a test failure is not.
        }
    }
}
