package dev.conveyor.manifests.domain;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The rendered objects as files: one YAML document per object, named {@link RenderedObject#fileName()}, sorted by
 * name, so the same chart and values always give the same files, the same order and the same digest.
 */
public final class ManifestSet {

    private static final ObjectMapper TREES = new ObjectMapper();

    private final Map<String, String> files;

    private ManifestSet(Map<String, String> files) {
        this.files = Collections.unmodifiableMap(files);
    }

    /** The files of these objects. Two objects that would share a file name get a numbered suffix. */
    public static ManifestSet of(List<RenderedObject> objects) {
        return of(objects, o -> false, "");
    }

    /** The files of these objects, those {@code noted} headed by {@code note} (a comment, ending in a newline). */
    public static ManifestSet of(List<RenderedObject> objects, Predicate<RenderedObject> noted, String note) {
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setIndent(2);
        options.setIndicatorIndent(0);
        options.setWidth(120);
        options.setSplitLines(false);
        Yaml yaml = new Yaml(options);
        Map<String, String> files = new TreeMap<>();
        for (RenderedObject object : objects) {
            String name = object.fileName();
            for (int n = 2; files.containsKey(name); n++) {
                name = object.fileName().replaceFirst("\\.yaml$", "-" + n + ".yaml");
            }
            String header = (noted.test(object) ? note : "") + "# Source: " + object.source() + "\n";
            files.put(name, header + yaml.dump(TREES.convertValue(object.body(), Map.class)));
        }
        return new ManifestSet(files);
    }

    /** Builds a set from existing files (e.g. what is committed under {@code manifests/}). */
    public static ManifestSet ofFiles(Map<String, String> files) {
        return new ManifestSet(new TreeMap<>(files));
    }

    /** File name to content, sorted by name. */
    public Map<String, String> files() {
        return files;
    }

    public int size() {
        return files.size();
    }

    /** {@code sha256:<hex>} over every file's name and content, in order. */
    public String digest() {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Map.Entry<String, String> file : files.entrySet()) {
                sha.update(file.getKey().getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
                sha.update(file.getValue().getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
            }
            return "sha256:" + HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
