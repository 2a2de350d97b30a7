package dev.conveyor.promoter.domain;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.representer.Representer;

/**
 * A classic Helm chart repository's {@code index.yaml}: entries are added, never dropped, and a version is immutable —
 * the same version with the same digest is already published, with another digest it is a conflict.
 */
public final class ChartIndex {

    /** Largest index read. */
    public static final int MAX_CHARS = 16 * 1024 * 1024;

    /** What {@link #add} found. */
    public enum Outcome {
        ADDED, ALREADY_PUBLISHED
    }

    /** The outcome and the index's new text (the old text when already published). */
    public record Result(Outcome outcome, String text) {
    }

    /** The same chart version is in the index with another digest. */
    public static final class VersionConflict extends RuntimeException {
        public VersionConflict(String message) {
            super(message);
        }
    }

    private ChartIndex() {
    }

    /**
     * Adds a packaged chart to an index.
     *
     * @param existing the current index.yaml text, empty for a new repository
     * @param chart the chart's Chart.yaml as a map (name, version, appVersion, ...)
     * @param digestHex sha256 of the .tgz, 64 hex digits
     * @param url the package's URL, relative to the index or absolute
     * @param now the entry's {@code created} and the index's {@code generated} time
     */
    @SuppressWarnings("unchecked")
    public static Result add(Optional<String> existing, Map<String, Object> chart, String digestHex, String url,
            Instant now) {
        String name = String.valueOf(chart.get("name"));
        String version = String.valueOf(chart.get("version"));
        Map<String, Object> index = existing.filter(t -> !t.isBlank()).map(ChartIndex::load)
                .orElseGet(LinkedHashMap::new);
        index.putIfAbsent("apiVersion", "v1");
        Object entriesNode = index.computeIfAbsent("entries", k -> new LinkedHashMap<>());
        if (!(entriesNode instanceof Map)) {
            throw new InvalidDocumentException("index.yaml", "index.yaml: entries must be a mapping");
        }
        Map<String, Object> entries = (Map<String, Object>) entriesNode;
        Object versionsNode = entries.computeIfAbsent(name, k -> new ArrayList<>());
        if (!(versionsNode instanceof List)) {
            throw new InvalidDocumentException("index.yaml", "index.yaml: entries." + name + " must be a list");
        }
        List<Object> versions = (List<Object>) versionsNode;
        for (Object v : versions) {
            if (v instanceof Map<?, ?> entry && version.equals(String.valueOf(entry.get("version")))) {
                if (digestHex.equals(String.valueOf(entry.get("digest")))) {
                    return new Result(Outcome.ALREADY_PUBLISHED, existing.orElse(""));
                }
                throw new VersionConflict("chart " + name + " " + version + " is already in the index with digest "
                        + entry.get("digest") + "; chart versions are immutable");
            }
        }
        Map<String, Object> entry = new LinkedHashMap<>(chart);
        entry.put("created", now.toString());
        entry.put("digest", digestHex);
        entry.put("urls", List.of(url));
        versions.add(0, entry);
        index.put("generated", now.toString());
        return new Result(Outcome.ADDED, dump(index));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> load(String text) {
        if (text.length() > MAX_CHARS) {
            throw new InvalidDocumentException("index.yaml", "index.yaml is larger than " + MAX_CHARS + " characters");
        }
        try {
            LoaderOptions options = new LoaderOptions();
            options.setMaxAliasesForCollections(50);
            options.setAllowDuplicateKeys(false);
            options.setCodePointLimit(MAX_CHARS);
            Object doc = new Yaml(new SafeConstructor(options)).load(text);
            if (!(doc instanceof Map)) {
                throw new InvalidDocumentException("index.yaml", "index.yaml must be a mapping at the top level");
            }
            return new LinkedHashMap<>((Map<String, Object>) doc);
        } catch (YAMLException e) {
            throw new InvalidDocumentException("index.yaml", "index.yaml is not valid YAML: " + e.getMessage().lines()
                    .findFirst().orElse(""));
        }
    }

    private static String dump(Map<String, Object> index) {
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setIndicatorIndent(0);
        options.setIndent(2);
        options.setSplitLines(false);
        // Dates that SnakeYAML parsed back into Date objects are written as timestamps again.
        return new Yaml(new Representer(options), options).dump(index);
    }
}
