package dev.conveyor.imagebuilder.client;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.conveyor.imagebuilder.service.ImageBuilderFailure;
import dev.conveyor.stage.StageException;

/**
 * Reads the OCI image tarball Jib writes ({@code oci-layout}, {@code index.json}, {@code blobs/sha256/<hex>}) as a
 * stream: small blobs are kept in memory, a layer that one of Jib's layer caches holds ({@code layers/<hex>/<diff id>})
 * is skipped and later read from there, any other blob is spooled to a file. Then {@link #image} checks the manifest
 * against its digest and describes the image for a push.
 */
final class ImageStream {

    /** Blobs up to this size are kept in memory (config, manifest, index, small application layers). */
    static final int IN_MEMORY = 1 << 20;
    private static final Pattern BLOB = Pattern.compile("blobs/sha256/([0-9a-f]{64})");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<Path> caches;
    private final Path baseCache;
    private final Path spool;
    private final Map<String, byte[]> small = new HashMap<>();
    private final Map<String, Path> files = new HashMap<>();
    private final Map<String, Boolean> fromBase = new HashMap<>();
    private byte[] index;

    /**
     * @param caches Jib's layer caches whose {@code layers/} directories may hold a layer
     * @param baseCache the one of them that holds base image layers
     * @param spool where blobs no cache holds are written
     */
    ImageStream(List<Path> caches, Path baseCache, Path spool) {
        this.caches = caches;
        this.baseCache = baseCache;
        this.spool = spool;
    }

    /** Reads the tarball up to its end marker (two zero blocks), or to the end of the stream. */
    void read(InputStream in) throws IOException {
        byte[] header = new byte[512];
        while (readBlock(in, header)) {
            if (isZero(header)) {
                return;
            }
            String name = text(header, 0, 100);
            String prefix = text(header, 345, 155);
            if (!prefix.isEmpty()) {
                name = prefix + "/" + name;
            }
            long size = size(header);
            char type = (char) header[156];
            Matcher blob = BLOB.matcher(name);
            if ((type == '0' || type == 0) && blob.matches()) {
                take(in, blob.group(1), size);
            } else if ((type == '0' || type == 0) && name.equals("index.json") && size <= IN_MEMORY) {
                index = in.readNBytes((int) size);
                if (index.length != size) {
                    throw new EOFException("index.json is cut short");
                }
            } else {
                skip(in, size);
            }
            skip(in, (512 - size % 512) % 512);
        }
    }

    private void take(InputStream in, String hex, long size) throws IOException {
        if (size <= IN_MEMORY) {
            byte[] bytes = in.readNBytes((int) size);
            if (bytes.length != size) {
                throw new EOFException("blob " + hex + " is cut short");
            }
            small.put(hex, bytes);
            // Kept in memory, but still a base layer when the base cache holds it: a candidate for a mount, as on the
            // model path.
            for (Path cache : caches) {
                if (cachedLayer(cache, hex, size) != null) {
                    fromBase.put(hex, cache.equals(baseCache));
                    break;
                }
            }
            return;
        }
        for (Path cache : caches) {
            Path cached = cachedLayer(cache, hex, size);
            if (cached != null) {
                skip(in, size);
                files.put(hex, cached);
                fromBase.put(hex, cache.equals(baseCache));
                return;
            }
        }
        Files.createDirectories(spool);
        Path file = spool.resolve(hex);
        try (OutputStream out = Files.newOutputStream(file)) {
            long left = size;
            byte[] buffer = new byte[64 * 1024];
            while (left > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    throw new EOFException("blob " + hex + " is cut short");
                }
                out.write(buffer, 0, n);
                left -= n;
            }
        }
        files.put(hex, file);
        fromBase.put(hex, false);
    }

    /** Jib's cache file for a layer ({@code <cache>/layers/<digest hex>/<diff id hex>}) when it has the right size. */
    private static Path cachedLayer(Path cache, String hex, long size) throws IOException {
        Path dir = cache.resolve("layers").resolve(hex);
        if (!Files.isDirectory(dir)) {
            return null;
        }
        try (var entries = Files.list(dir)) {
            for (Path file : (Iterable<Path>) entries::iterator) {
                String name = file.getFileName().toString();
                if (name.matches("[0-9a-f]{64}") && Files.isRegularFile(file) && Files.size(file) == size) {
                    return file;
                }
            }
        }
        return null;
    }

    /** The manifest digest the tarball's {@code index.json} names. */
    String indexedManifest() {
        try {
            if (index == null) {
                throw failure("has no index.json");
            }
            return JSON.readTree(index).path("manifests").path(0).path("digest").asText("");
        } catch (IOException e) {
            throw failure("has an unreadable index.json: " + e.getMessage());
        }
    }

    /** The image the tarball holds, as its {@code index.json} names it. */
    BuiltImage image(String digest) {
        if (!indexedManifest().equals(digest)) {
            throw failure("names manifest " + indexedManifest() + ", expected " + digest);
        }
        byte[] manifest = small.get(hex(digest));
        if (manifest == null) {
            throw failure("does not hold manifest " + digest);
        }
        try {
            byte[] config = small.get(hex(JSON.readTree(manifest).path("config").path("digest").asText("")));
            if (config == null) {
                throw failure("does not hold the config blob");
            }
            java.util.Set<String> base = new java.util.HashSet<>();
            fromBase.forEach((hex, isBase) -> {
                if (isBase) {
                    base.add(hex);
                }
            });
            return describe(digest, manifest, config, files, base, small);
        } catch (IOException e) {
            throw failure("has an unreadable manifest: " + e.getMessage());
        }
    }

    /** An image from its manifest and config bytes and the files of its layers (by digest hex). */
    static BuiltImage describe(String digest, byte[] manifest, byte[] config, Map<String, Path> files,
            java.util.Set<String> fromBase) {
        return describe(digest, manifest, config, files, fromBase, Map.of());
    }

    private static BuiltImage describe(String digest, byte[] manifest, byte[] config, Map<String, Path> files,
            java.util.Set<String> fromBase, Map<String, byte[]> small) {
        if (!("sha256:" + sha256(manifest)).equals(digest)) {
            throw failure("manifest does not match its digest " + digest);
        }
        try {
            JsonNode root = JSON.readTree(manifest);
            String mediaType = root.path("mediaType").asText("application/vnd.oci.image.manifest.v1+json");
            JsonNode configNode = root.path("config");
            if (!configNode.path("digest").asText().equals("sha256:" + sha256(config)) || configNode.path("size")
                    .asLong() != config.length) {
                throw failure("config does not match its descriptor");
            }
            BuiltImage.Blob configBlob = new BuiltImage.Blob(configNode.path("digest").asText(), config.length,
                    configNode.path("mediaType").asText(), null, config, false);
            List<BuiltImage.Blob> layers = new ArrayList<>();
            for (JsonNode layer : root.path("layers")) {
                String layerDigest = layer.path("digest").asText("");
                String hex = hex(layerDigest);
                long size = layer.path("size").asLong(-1);
                Path file = files.get(hex);
                byte[] bytes = file == null ? small.get(hex) : null;
                if (file == null && bytes == null) {
                    throw failure("does not hold layer " + layerDigest);
                }
                if (bytes != null && bytes.length != size) {
                    throw failure("holds layer " + layerDigest + " with another size than its manifest says");
                }
                layers.add(new BuiltImage.Blob(layerDigest, size, layer.path("mediaType").asText(), file, bytes,
                        fromBase.contains(hex)));
            }
            return new BuiltImage(digest, mediaType, manifest, configBlob, List.copyOf(layers));
        } catch (IOException e) {
            throw failure("has an unreadable manifest: " + e.getMessage());
        }
    }

    private static String hex(String digest) {
        return digest.startsWith("sha256:") ? digest.substring(7) : "";
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static StageException failure(String what) {
        return StageException.transientFailure(ImageBuilderFailure.IMAGE_BUILD_FAILED, "Jib's image tarball " + what,
                null);
    }

    private static boolean readBlock(InputStream in, byte[] block) throws IOException {
        int n = in.readNBytes(block, 0, block.length);
        if (n == 0) {
            return false;
        }
        if (n != block.length) {
            throw new EOFException("tar header cut short");
        }
        return true;
    }

    /** Reads past {@code bytes} bytes (a pipe cannot seek, so they are read). */
    private static void skip(InputStream in, long bytes) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        long left = bytes;
        while (left > 0) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
            if (n < 0) {
                throw new EOFException("tar entry cut short");
            }
            left -= n;
        }
    }

    private static boolean isZero(byte[] block) {
        for (byte b : block) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private static String text(byte[] header, int offset, int length) {
        int end = offset;
        while (end < offset + length && header[end] != 0) {
            end++;
        }
        return new String(header, offset, end - offset, StandardCharsets.UTF_8);
    }

    /** The size field: octal, or base-256 when its first byte has the high bit (GNU/star for large files). */
    private static long size(byte[] header) {
        if ((header[124] & 0x80) != 0) {
            long size = 0;
            for (int i = 125; i < 136; i++) {
                size = size << 8 | header[i] & 0xff;
            }
            return size;
        }
        String octal = text(header, 124, 12).trim();
        return octal.isEmpty() ? 0 : Long.parseLong(octal, 8);
    }
}
