package dev.conveyor.promoter.client;

import java.nio.file.Path;
import java.util.Map;

/**
 * A chart packaged reproducibly: the same content always gives the same bytes and digest.
 *
 * @param name the chart's name
 * @param version the chart's version
 * @param file the .tgz
 * @param digestHex sha256 of the .tgz, 64 hex digits
 * @param metadata the packaged Chart.yaml as a map, for index entries
 */
public record PackagedChart(String name, String version, Path file, String digestHex, Map<String, Object> metadata) {

    /** {@code sha256:<hex>}. */
    public String digest() {
        return "sha256:" + digestHex;
    }

    /** The package's file name, {@code <name>-<version>.tgz}. */
    public String fileName() {
        return name + "-" + version + ".tgz";
    }
}
