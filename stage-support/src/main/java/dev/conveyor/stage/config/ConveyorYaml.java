package dev.conveyor.stage.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.eclipse.jgit.lib.ObjectLoader;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;

/**
 * Safe reading of an app's {@code .conveyor.yaml}: size, nesting, alias and duplicate-key limits against hostile input,
 * and typed accessors whose errors name the field. Each service reads its own section and ignores the others'.
 *
 * <pre>
 * version:            # versioner
 *   strategy: tags    # tags | file
 *   tagPrefix: v
 *   initial: 0.1.0
 *   file: VERSION     # file strategy: VERSION, path/to/Chart.yaml or pom.xml
 * apps:               # monorepos: one entry per app built from the repository
 *   - name: api
 *     path: api/
 *     tagPrefix: api-v
 * </pre>
 */
public final class ConveyorYaml {

    /** The file's name at the root of an app repository. */
    public static final String FILE_NAME = ".conveyor.yaml";
    /** Largest accepted file. */
    public static final int MAX_BYTES = 256 * 1024;

    private static final ObjectMapper TREES = new ObjectMapper();

    private final JsonNode root;

    private ConveyorYaml(JsonNode root) {
        this.root = root;
    }

    /** An empty configuration: every setting at its default. */
    public static ConveyorYaml empty() {
        return new ConveyorYaml(MissingNode.getInstance());
    }

    /**
     * Reads and parses the file at {@code file}; its size is checked before a byte is read, so a huge (or sparse) file
     * costs nothing.
     */
    public static ConveyorYaml read(Path file) throws IOException {
        requireSize(Files.size(file));
        return parse(Files.readString(file, StandardCharsets.UTF_8));
    }

    /** Parses the file from a git blob; its size is checked before the blob is loaded. */
    public static ConveyorYaml read(ObjectLoader blob) throws IOException {
        requireSize(blob.getSize());
        return parse(new String(blob.getBytes(), StandardCharsets.UTF_8));
    }

    /**
     * Fails naming the file when a {@code .conveyor.yaml} of {@code bytes} bytes is over the limit; readers of the file
     * call it before they load it.
     */
    public static void requireSize(long bytes) {
        if (bytes > MAX_BYTES) {
            throw new InvalidConfigException(FILE_NAME, FILE_NAME + " is larger than " + MAX_BYTES + " bytes ("
                    + bytes + " bytes)");
        }
    }

    /** Parses the file's text; an empty file is an empty configuration. */
    public static ConveyorYaml parse(String text) {
        if (text.length() > MAX_BYTES) {
            throw new InvalidConfigException(FILE_NAME, FILE_NAME + " is larger than " + MAX_BYTES + " bytes");
        }
        if (text.isBlank()) {
            return empty();
        }
        try {
            // SnakeYAML's safe constructor builds only maps, lists and scalars, expands aliases within a limit (an
            // alias bomb fails instead of exhausting memory) and refuses duplicate keys.
            LoaderOptions options = new LoaderOptions();
            options.setMaxAliasesForCollections(20);
            options.setAllowDuplicateKeys(false);
            options.setCodePointLimit(MAX_BYTES);
            options.setNestingDepthLimit(32);
            Object document = new Yaml(new SafeConstructor(options)).load(text);
            JsonNode root = TREES.valueToTree(document);
            if (root == null || root.isMissingNode() || root.isNull()) {
                return empty();
            }
            if (!root.isObject()) {
                throw new InvalidConfigException(FILE_NAME, FILE_NAME + " must be a mapping at the top level");
            }
            return new ConveyorYaml(root);
        } catch (YAMLException | IllegalArgumentException e) {
            String message = e.getMessage() == null
                    ? e.getClass().getSimpleName()
                    : e.getMessage().lines()
                            .findFirst().orElse("");
            throw new InvalidConfigException(FILE_NAME, FILE_NAME + " is not valid YAML: " + message);
        }
    }

    /** The section at the top-level key, or a missing node. */
    public Section section(String key) {
        return root().section(key);
    }

    /** A mapping inside the file with typed, field-naming accessors. */
    public static final class Section {
        private final String path;
        private final JsonNode node;

        Section(String path, JsonNode node) {
            this.path = path;
            this.node = node;
        }

        public boolean isPresent() {
            return !node.isMissingNode() && !node.isNull();
        }

        /** The dotted path of this section in the file. */
        public String path() {
            return path;
        }

        /** Fails naming every key not in {@code allowed}: a typo must not silently become a default. */
        public Section allowOnly(Set<String> allowed) {
            if (!isPresent()) {
                return this;
            }
            requireMapping();
            List<String> unknown = new ArrayList<>();
            for (Iterator<String> names = node.fieldNames(); names.hasNext();) {
                String name = names.next();
                if (!allowed.contains(name)) {
                    unknown.add(child(name));
                }
            }
            if (!unknown.isEmpty()) {
                throw new InvalidConfigException(unknown.get(0), "unknown field" + (unknown.size() > 1 ? "s " : " ")
                        + String.join(", ", unknown) + " in " + FILE_NAME + " (known: " + String.join(", ",
                                allowed.stream().sorted().toList())
                        + ")");
            }
            return this;
        }

        /** A string field; a non-scalar value is an error naming the field. */
        public Optional<String> string(String key) {
            JsonNode value = node.path(key);
            if (value.isMissingNode() || value.isNull()) {
                return Optional.empty();
            }
            if (!value.isValueNode()) {
                throw new InvalidConfigException(child(key), child(key) + " must be a string");
            }
            String text = value.asText().trim();
            if (text.isEmpty()) {
                throw new InvalidConfigException(child(key), child(key) + " must not be empty");
            }
            return Optional.of(text);
        }

        /**
         * A path inside the repository: relative, no {@code ..} segment, no backslash or control character; anything
         * else is an error naming the field.
         */
        public Optional<String> relativePath(String key) {
            Optional<String> value = string(key);
            value.ifPresent(p -> {
                boolean climbs = java.util.Arrays.asList(p.split("/")).contains("..");
                if (p.startsWith("/") || climbs || p.contains("\\") || p.chars().anyMatch(Character::isISOControl)) {
                    throw new InvalidConfigException(child(key), child(key)
                            + " must be a relative path inside the repository (no leading /, no ..)");
                }
            });
            return value;
        }

        /** Whether the field is present and holds a single value (not a list or mapping). */
        public boolean isScalar(String key) {
            JsonNode value = node.path(key);
            return !value.isMissingNode() && !value.isNull() && value.isValueNode();
        }

        /** A list of strings; empty when absent. Anything but a list of single values is an error naming the entry. */
        public List<String> strings(String key) {
            JsonNode value = node.path(key);
            if (value.isMissingNode() || value.isNull()) {
                return List.of();
            }
            if (!value.isArray()) {
                throw new InvalidConfigException(child(key), child(key) + " must be a list");
            }
            List<String> items = new ArrayList<>();
            for (int i = 0; i < value.size(); i++) {
                JsonNode item = value.get(i);
                if (item.isNull() || !item.isValueNode()) {
                    String field = child(key) + "[" + i + "]";
                    throw new InvalidConfigException(field, field + " must be a string");
                }
                items.add(item.asText());
            }
            return items;
        }

        /**
         * A mapping of names to string values (a missing value is the empty string), in file order; empty when absent.
         */
        public java.util.Map<String, String> stringMap(String key) {
            JsonNode value = node.path(key);
            if (value.isMissingNode() || value.isNull()) {
                return java.util.Map.of();
            }
            if (!value.isObject()) {
                throw new InvalidConfigException(child(key), child(key) + " must be a mapping of names to values");
            }
            java.util.Map<String, String> entries = new java.util.LinkedHashMap<>();
            for (Iterator<java.util.Map.Entry<String, JsonNode>> fields = value.fields(); fields.hasNext();) {
                java.util.Map.Entry<String, JsonNode> field = fields.next();
                JsonNode item = field.getValue();
                if (!item.isNull() && !item.isValueNode()) {
                    String name = child(key) + "." + field.getKey();
                    throw new InvalidConfigException(name, name + " must be a string");
                }
                entries.put(field.getKey(), item.isNull() ? "" : item.asText());
            }
            return entries;
        }

        /** A nested mapping. */
        public Section section(String key) {
            Section child = new Section(child(key), node.path(key));
            if (child.isPresent()) {
                child.requireMapping();
            }
            return child;
        }

        /** The entries of a list of mappings, each named {@code path[i]}. */
        public List<Section> list(String key) {
            JsonNode value = node.path(key);
            if (value.isMissingNode() || value.isNull()) {
                return List.of();
            }
            if (!value.isArray()) {
                throw new InvalidConfigException(child(key), child(key) + " must be a list");
            }
            List<Section> entries = new ArrayList<>();
            for (int i = 0; i < value.size(); i++) {
                Section entry = new Section(child(key) + "[" + i + "]", value.get(i));
                entry.requireMapping();
                entries.add(entry);
            }
            return entries;
        }

        private String child(String key) {
            return path.isEmpty() ? key : path + "." + key;
        }

        private void requireMapping() {
            if (!node.isObject()) {
                throw new InvalidConfigException(path, (path.isEmpty() ? FILE_NAME : path) + " must be a mapping");
            }
        }
    }

    /** The top level as a section, for top-level lists such as {@code apps}. */
    public Section root() {
        return new Section("", root);
    }
}
