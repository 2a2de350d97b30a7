package dev.conveyor.imagebuilder.client;

import java.nio.file.Path;
import java.util.List;

/**
 * An image Jib built, ready to push: its manifest and config as bytes, its layers as files (in Jib's layer caches, or
 * spooled into the build's work directory when a cache does not hold them).
 *
 * @param digest the manifest's digest ({@code sha256:<hex>}), what the registry will name the image by
 * @param manifestMediaType the manifest's media type
 * @param manifest the manifest, byte for byte as it is pushed
 * @param config the config blob
 * @param layers the layers, bottom first
 */
public record BuiltImage(String digest, String manifestMediaType, byte[] manifest, Blob config, List<Blob> layers) {

    /**
     * One blob of the image.
     *
     * @param digest {@code sha256:<hex>}
     * @param size its size in bytes
     * @param mediaType its media type in the manifest
     * @param file where its bytes are, or {@code null} when {@code bytes} holds them
     * @param bytes its bytes when small, else {@code null}
     * @param fromBase whether it is a layer of the base image (from the base layer cache): a candidate for a
     *     cross-repository mount
     */
    public record Blob(String digest, long size, String mediaType, Path file, byte[] bytes, boolean fromBase) {
    }

    /** The compressed size of the image: config and layers, as {@code ImagePushed.sizeBytes} counts it. */
    public long size() {
        return config.size() + layers.stream().mapToLong(Blob::size).sum();
    }
}
