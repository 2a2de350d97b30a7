package dev.conveyor.imagebuilder.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.conveyor.imagebuilder.service.ImageBuilderFailure;
import dev.conveyor.stage.FailureKind;
import dev.conveyor.stage.StageException;

/**
 * An OCI image-layout directory used instead of a registry ({@code conveyor.image-builder.registry=oci-layout:<dir>}):
 * one layout for all repositories, each tag an {@code index.json} entry whose {@code org.opencontainers.image.ref.name}
 * annotation is {@code <repository>:<tag>}, so {@code skopeo inspect oci:<dir>:<repository>:<tag>} finds it.
 *
 * <p>
 * Writes are atomic: blobs are written to temporary files and moved into place first, then {@code index.json} is
 * replaced by a temporary file and an atomic move. Index updates are serialised per directory, inside the JVM by a
 * lock and across processes by a file lock on {@code index.json.lock}, so no entry is ever lost.
 */
public final class OciLayout {

    /** The prefix of the {@code registry} setting that selects a layout. */
    public static final String PREFIX = "oci-layout:";
    /** The annotation naming an index entry. */
    public static final String REF_NAME = "org.opencontainers.image.ref.name";

    private static final String INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json";
    private static final Pattern BLOB = Pattern.compile("blobs/sha256/([0-9a-f]{64})");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<Path, Object> LOCKS = new ConcurrentHashMap<>();

    private final Path dir;

    private OciLayout(Path dir) {
        this.dir = dir;
    }

    /**
     * The layout a {@code registry} setting names, or empty for a real registry.
     *
     * @throws StageException {@code INVALID_CONFIG} when the directory is not absolute
     */
    public static Optional<OciLayout> forRegistry(String registry) {
        if (!registry.startsWith(PREFIX)) {
            return Optional.empty();
        }
        String path = registry.substring(PREFIX.length());
        if (path.isEmpty() || !Path.of(path).isAbsolute()) {
            throw StageException.terminal(ImageBuilderFailure.INVALID_CONFIG, "conveyor.image-builder.registry '"
                    + registry + "' must be " + PREFIX + "<absolute directory>",
                    Map.of("field",
                            "conveyor.image-builder.registry"));
        }
        return Optional.of(new OciLayout(Path.of(path).normalize()));
    }

    /** The layout directory. */
    public Path dir() {
        return dir;
    }

    /** The ref name of a tag: {@code <repository>:<tag>}. */
    public static String refName(String repository, String tag) {
        return repository + ":" + tag;
    }

    /** The manifest digest {@code ref} names, or empty when the layout has no such entry (or no index yet). */
    public Optional<String> digest(String ref) {
        Path index = dir.resolve("index.json");
        if (!Files.exists(index)) {
            return Optional.empty();
        }
        for (JsonNode entry : readIndex(index).path("manifests")) {
            if (ref.equals(entry.path("annotations").path(REF_NAME).asText(null))) {
                return Optional.of(entry.path("digest").asText());
            }
        }
        return Optional.empty();
    }

    /** The compressed size of an image: its manifest's config and layers, as for a registry. */
    public long imageSize(String digest) {
        Path manifest = blob(digest);
        try {
            JsonNode root = JSON.readTree(manifest.toFile());
            long size = root.path("config").path("size").asLong();
            for (JsonNode layer : root.path("layers")) {
                size += layer.path("size").asLong();
            }
            return size;
        } catch (IOException e) {
            throw failure("cannot read manifest " + digest, e);
        }
    }

    /**
     * Copies the blobs of an OCI image tarball (as Jib writes it) into the layout, then points {@code refs} at its
     * manifest in one atomic {@code index.json} replacement. Entries with the same ref names are replaced.
     *
     * @param versionRef the ref that must not move to another digest when {@code immutable}; checked again under the
     *     lock so two concurrent builds cannot both write a release
     * @return the manifest digest
     */
    public String add(Path ociTar, String versionRef, boolean immutable, List<String> refs) {
        ObjectNode descriptor = importBlobs(ociTar);
        String digest = descriptor.path("digest").asText();
        withIndex(manifests -> {
            Optional<String> current = find(manifests, versionRef);
            if (immutable && current.isPresent() && !current.get().equals(digest)) {
                throw StageException.terminal(ImageBuilderFailure.IMMUTABLE_TAG, "release tag " + versionRef
                        + " in " + dir + " already names " + current.get() + " and this build makes " + digest
                        + "; releases are never overwritten",
                        Map.of("tag", versionRef, "existing", current.get(),
                                "built", digest));
            }
            List<JsonNode> kept = new ArrayList<>();
            for (JsonNode entry : manifests) {
                if (!refs.contains(entry.path("annotations").path(REF_NAME).asText(null))) {
                    kept.add(entry);
                }
            }
            for (String ref : refs) {
                ObjectNode entry = descriptor.deepCopy();
                entry.putObject("annotations").put(REF_NAME, ref);
                kept.add(entry);
            }
            return kept;
        });
        return digest;
    }

    /**
     * Points {@code ref} at {@code digest} (already in the layout) unless it names an image already.
     *
     * @return whether {@code ref} names {@code digest} afterwards
     */
    public boolean tagIfAbsent(String ref, String digest) {
        boolean[] names = new boolean[1];
        withIndex(manifests -> {
            Optional<String> current = find(manifests, ref);
            if (current.isPresent()) {
                names[0] = current.get().equals(digest);
                return null;
            }
            JsonNode source = manifests.stream().filter(e -> digest.equals(e.path("digest").asText())).findFirst()
                    .orElseThrow(() -> failure("the layout lost " + digest, null));
            ObjectNode entry = ((ObjectNode) source).deepCopy();
            entry.putObject("annotations").put(REF_NAME, ref);
            List<JsonNode> updated = new ArrayList<>(manifests);
            updated.add(entry);
            names[0] = true;
            return updated;
        });
        return names[0];
    }

    private static Optional<String> find(List<JsonNode> manifests, String ref) {
        return manifests.stream().filter(e -> ref.equals(e.path("annotations").path(REF_NAME).asText(null)))
                .map(e -> e.path("digest").asText()).findFirst();
    }

    /** Runs {@code update} on the index entries under the lock; a non-null result replaces {@code index.json}. */
    private void withIndex(java.util.function.Function<List<JsonNode>, List<JsonNode>> update) {
        Object monitor = LOCKS.computeIfAbsent(dir, d -> new Object());
        synchronized (monitor) {
            try {
                Files.createDirectories(dir);
                try (FileChannel channel = FileChannel.open(dir.resolve("index.json.lock"), StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE); FileLock lock = channel.lock()) {
                    ensureLayoutFile();
                    Path index = dir.resolve("index.json");
                    List<JsonNode> manifests = new ArrayList<>();
                    if (Files.exists(index)) {
                        readIndex(index).path("manifests").forEach(manifests::add);
                    }
                    List<JsonNode> updated = update.apply(manifests);
                    if (updated != null) {
                        ObjectNode root = JSON.createObjectNode();
                        root.put("schemaVersion", 2);
                        root.put("mediaType", INDEX_MEDIA_TYPE);
                        ArrayNode array = root.putArray("manifests");
                        updated.forEach(array::add);
                        writeAtomically(index, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
                    }
                }
            } catch (IOException e) {
                throw failure("cannot update " + dir.resolve("index.json"), e);
            }
        }
    }

    private void ensureLayoutFile() throws IOException {
        Path marker = dir.resolve("oci-layout");
        if (!Files.exists(marker)) {
            writeAtomically(marker, "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
        }
    }

    /** Copies the tarball's blobs that the layout lacks, each verified and moved into place; returns its manifest. */
    private ObjectNode importBlobs(Path ociTar) {
        ObjectNode descriptor = null;
        try {
            Path blobs = Files.createDirectories(dir.resolve("blobs").resolve("sha256"));
            try (InputStream in = Files.newInputStream(ociTar);
                    TarArchiveInputStream tar = new TarArchiveInputStream(
                            in)) {
                TarArchiveEntry entry;
                while ((entry = tar.getNextEntry()) != null) {
                    String name = entry.getName();
                    var blob = BLOB.matcher(name);
                    if (blob.matches()) {
                        Path target = blobs.resolve(blob.group(1));
                        if (!Files.exists(target)) {
                            copyVerified(tar, blobs, target, blob.group(1));
                        }
                    } else if (name.equals("index.json")) {
                        JsonNode index = JSON.readTree(tar.readAllBytes());
                        JsonNode manifest = index.path("manifests").path(0);
                        descriptor = JSON.createObjectNode();
                        descriptor.put("mediaType", manifest.path("mediaType").asText());
                        descriptor.put("digest", manifest.path("digest").asText());
                        descriptor.put("size", manifest.path("size").asLong());
                    }
                }
            }
        } catch (IOException e) {
            throw failure("cannot copy the image into " + dir, e);
        }
        if (descriptor == null || !Files.exists(blob(descriptor.path("digest").asText()))) {
            throw failure("Jib's image tarball " + ociTar.getFileName() + " has no OCI index or manifest", null);
        }
        return descriptor;
    }

    private static void copyVerified(InputStream in, Path blobs, Path target, String hex) throws IOException {
        Path temp = Files.createTempFile(blobs, ".tmp-", "");
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            try (OutputStream out = new DigestOutputStream(Files.newOutputStream(temp), sha)) {
                in.transferTo(out);
            }
            String actual = HexFormat.of().formatHex(sha.digest());
            if (!actual.equals(hex)) {
                throw new IOException("blob " + hex + " has sha256 " + actual);
            }
            move(temp, target);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static void writeAtomically(Path target, byte[] content) throws IOException {
        Path temp = Files.createTempFile(target.getParent(), "." + target.getFileName() + "-", ".tmp");
        try {
            Files.write(temp, content);
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            move(temp, target);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static void move(Path temp, Path target) throws IOException {
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system of " + target.getParent() + " cannot move files atomically", e);
        }
    }

    private Path blob(String digest) {
        return dir.resolve("blobs").resolve("sha256").resolve(digest.substring(digest.indexOf(':') + 1));
    }

    private JsonNode readIndex(Path index) {
        try {
            return JSON.readTree(index.toFile());
        } catch (IOException e) {
            throw failure("cannot read " + index, e);
        }
    }

    private StageException failure(String message, Exception cause) {
        return new StageException(FailureKind.TRANSIENT, ImageBuilderFailure.IMAGE_BUILD_FAILED, "OCI layout "
                + message + (cause == null || cause.getMessage() == null ? "" : ": " + cause.getMessage()),
                Map.of(
                        "layout", dir.toString()),
                cause);
    }
}
