package dev.conveyor.fluxsync.domain;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Safe reading of untrusted YAML: plain data only (no Java types), duplicate keys refused, few aliases (no alias
 * bombs), a size limit per file. Empty documents ({@code ---} separators, comments) are skipped.
 */
public final class YamlDocuments {

    /** Largest file read, in characters. */
    public static final int MAX_CHARS = 3 * 1024 * 1024;

    private YamlDocuments() {
    }

    /** Most nodes one file may expand to (aliases count each time they are used): no alias bombs. */
    public static final int MAX_NODES = 500_000;

    /** Thrown with a message that names the file. */
    public static final class InvalidYamlException extends RuntimeException {
        public InvalidYamlException(String message) {
            super(message);
        }
    }

    /** The mappings in {@code content}, in order; throws {@link InvalidYamlException} naming {@code file}. */
    @SuppressWarnings("unchecked")
    public static List<Map<String, Object>> parse(String file, String content) {
        if (content.length() > MAX_CHARS) {
            throw new InvalidYamlException(file + ": larger than " + MAX_CHARS + " characters");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        int index = 0;
        try {
            for (Object doc : yaml().loadAll(content)) {
                index++;
                if (doc == null) {
                    continue;
                }
                if (!(doc instanceof Map<?, ?> map)) {
                    throw new InvalidYamlException(file + ": document " + index + " is not a mapping");
                }
                out.add(stringKeys((Map<Object, Object>) map, file, new int[]{0}));
            }
        } catch (InvalidYamlException e) {
            throw e;
        } catch (RuntimeException e) {
            // SnakeYAML's messages quote the offending line; they never carry more than the file itself.
            throw new InvalidYamlException(file + ": invalid YAML: " + firstLine(e.getMessage()));
        }
        return out;
    }

    /** One mapping (values stored in a Secret or ConfigMap). */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseMap(String what, String content) {
        List<Map<String, Object>> docs = parse(what, content);
        if (docs.size() > 1) {
            throw new InvalidYamlException(what + ": holds " + docs.size() + " documents, expected one");
        }
        return docs.isEmpty() ? new LinkedHashMap<>() : docs.get(0);
    }

    private static Yaml yaml() {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(50);
        options.setAllowRecursiveKeys(false);
        options.setCodePointLimit(MAX_CHARS + 1);
        options.setNestingDepthLimit(100);
        return new Yaml(new SafeConstructor(options));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> stringKeys(Map<Object, Object> map, String file, int[] nodes) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<Object, Object> e : map.entrySet()) {
            count(file, nodes);
            Object value = e.getValue();
            if (value instanceof Map<?, ?> nested) {
                value = stringKeys((Map<Object, Object>) nested, file, nodes);
            } else if (value instanceof List<?> list) {
                value = list(list, file, nodes);
            } else if (value instanceof java.util.Date || value instanceof byte[]) {
                // Timestamps and binaries are not Kubernetes JSON: keep their text form.
                value = String.valueOf(value);
            }
            out.put(String.valueOf(e.getKey()), value);
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(List<?> list, String file, int[] nodes) {
        List<Object> out = new ArrayList<>(list.size());
        for (Object item : list) {
            count(file, nodes);
            if (item instanceof Map<?, ?> nested) {
                out.add(stringKeys((Map<Object, Object>) nested, file, nodes));
            } else if (item instanceof List<?> inner) {
                out.add(list(inner, file, nodes));
            } else {
                out.add(item);
            }
        }
        return out;
    }

    private static void count(String file, int[] nodes) {
        if (++nodes[0] > MAX_NODES) {
            throw new InvalidYamlException(file + ": expands to more than " + MAX_NODES
                    + " nodes (aliases used too often)");
        }
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        return message.replace('\n', ' ').trim();
    }
}
