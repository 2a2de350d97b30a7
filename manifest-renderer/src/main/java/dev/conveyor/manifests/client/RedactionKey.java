package dev.conveyor.manifests.client;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The key of the HMACs in redacted Secret placeholders: the configured one, or else one generated once and kept in a
 * file (64 hex characters, owner-only permissions). The key is the text's UTF-8 bytes either way, so the file's content
 * can be moved into the configuration (a Kubernetes Secret) unchanged, and the placeholders stay the same. The key is
 * never logged nor put into an error message.
 */
public final class RedactionKey {

    /** Fewest characters a key may have. */
    public static final int MIN_CHARS = 16;

    private RedactionKey() {
    }

    /**
     * The configured key or the one in {@code keyFile}, created there when missing.
     *
     * @throws IllegalStateException when the key is too short or the file cannot be read or written
     */
    public static byte[] load(Optional<String> configured, Path keyFile) {
        if (configured.isPresent()) {
            String key = configured.get().strip();
            if (key.length() < MIN_CHARS) {
                throw new IllegalStateException("conveyor.manifest-renderer.redaction-key must have at least "
                        + MIN_CHARS + " characters");
            }
            return key.getBytes(StandardCharsets.UTF_8);
        }
        try {
            if (!Files.exists(keyFile)) {
                create(keyFile);
            }
            String key = Files.readString(keyFile, StandardCharsets.UTF_8).strip();
            if (key.length() < MIN_CHARS) {
                throw new IllegalStateException("the redaction key file " + keyFile + " holds fewer than " + MIN_CHARS
                        + " characters");
            }
            return key.getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read or create the redaction key file " + keyFile + ": " + e
                    .getClass().getSimpleName(), e);
        }
    }

    private static void create(Path keyFile) throws IOException {
        Files.createDirectories(keyFile.toAbsolutePath().getParent());
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        Path tmp = keyFile.resolveSibling(keyFile.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } else {
            Files.createFile(tmp);
        }
        try {
            Files.writeString(tmp, HexFormat.of().formatHex(random) + "\n", StandardCharsets.UTF_8);
            // A hard link is created atomically and never replaces a file: two instances starting at once on one
            // volume end up with the same key.
            Files.createLink(keyFile, tmp);
        } catch (FileAlreadyExistsException e) {
            // Another instance was first; its key is the one.
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
