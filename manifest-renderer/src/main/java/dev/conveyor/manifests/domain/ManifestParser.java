package dev.conveyor.manifests.domain;

import java.io.StringReader;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Splits Helm's rendered output into objects, keeping each one's template ({@code # Source:} comment), and turns YAML
 * into Jackson trees without losing what a plain loader would hide: every duplicate key is reported with its path and
 * line, and YAML that fails to parse is reported for its template, so all problems come out at once. Input as a whole
 * is refused when it exceeds the byte cap or expands aliases beyond the node budget.
 */
public final class ManifestParser {

    /** Limits against hostile charts. */
    public record Limits(int maxBytes, int maxAliases, int maxNodesPerDocument, int maxDepth) {
        public static Limits defaults() {
            return new Limits(16 * 1024 * 1024, 100, 200_000, 64);
        }
    }

    /** The objects and the per-document problems found while parsing. */
    public record Result(List<RenderedObject> objects, List<Problem> problems) {
    }

    private static final Pattern SEPARATOR = Pattern.compile("(?m)^---[ \\t]*(?:#.*)?$");
    private static final String SOURCE_PREFIX = "# Source: ";
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final Limits limits;

    public ManifestParser(Limits limits) {
        this.limits = limits;
    }

    /** Parses Helm's output (or any multi-document YAML); {@code defaultSource} names documents without a comment. */
    public Result parse(String rendered, String defaultSource) {
        if (rendered.length() > limits.maxBytes()) {
            // String.length() counts UTF-16 characters, not bytes: say so.
            throw new ManifestInputException(ManifestInputException.Reason.OUTPUT_TOO_LARGE,
                    "the rendered manifests are longer than " + limits.maxBytes() + " characters");
        }
        List<RenderedObject> objects = new ArrayList<>();
        List<Problem> problems = new ArrayList<>();
        Yaml yaml = yaml(); // one loader per call: not thread-safe, but reusable across documents
        int document = 0;
        int lineOfChunk = 1;
        int from = 0;
        java.util.regex.Matcher separators = SEPARATOR.matcher(rendered);
        while (from <= rendered.length()) {
            boolean more = separators.find();
            int to = more ? separators.start() : rendered.length();
            String chunk = rendered.substring(from, to);
            int chunkLine = lineOfChunk;
            if (more) {
                lineOfChunk += lines(chunk);
                from = separators.end();
                lineOfChunk += lines(rendered, separators.start(), separators.end());
            } else {
                from = rendered.length() + 1;
            }
            if (chunk.isBlank()) {
                continue;
            }
            document++;
            int line = chunkLine + leadingBlankLines(chunk);
            String source = source(chunk, defaultSource);
            Node root;
            try {
                root = yaml.compose(new StringReader(chunk));
            } catch (YAMLException e) {
                if (isAliasLimit(e)) {
                    throw new ManifestInputException(ManifestInputException.Reason.YAML_ALIAS_BOMB, source
                            + ": more than " + limits.maxAliases() + " aliases");
                }
                problems.add(new Problem(source, "", "", "", "", "invalid YAML: " + firstLine(e, chunkLine), document,
                        line));
                continue;
            }
            if (root == null) {
                continue;
            }
            Conversion conversion = new Conversion(source, chunkLine);
            JsonNode tree = conversion.convert(root, "", 0);
            if (tree.isNull() || tree.isMissingNode()) {
                continue;
            }
            if (!tree.isObject()) {
                problems.add(new Problem(source, "", "", "", "", "document is not a mapping but " + Validator
                        .typeName(tree), document, line));
                continue;
            }
            List<ObjectNode> bodies = new ArrayList<>();
            ObjectNode body = (ObjectNode) tree;
            if ("v1".equals(body.path("apiVersion").asText()) && body.path("kind").asText().endsWith("List")
                    && body.path("items").isArray()) {
                // kubectl-style lists are flattened: each item is an object of its own.
                body.path("items").forEach(item -> {
                    if (item.isObject()) {
                        bodies.add((ObjectNode) item);
                    }
                });
            } else {
                bodies.add(body);
            }
            for (ObjectNode b : bodies) {
                RenderedObject object = RenderedObject.of(source, b, document, line);
                objects.add(object);
                for (String[] duplicate : conversion.duplicates) {
                    problems.add(object.problem(duplicate[0], duplicate[1]));
                }
            }
        }
        return new Result(objects, problems);
    }

    private static int lines(String text) {
        return lines(text, 0, text.length());
    }

    private static int lines(String text, int from, int to) {
        int n = 0;
        for (int i = from; i < to; i++) {
            if (text.charAt(i) == '\n') {
                n++;
            }
        }
        return n;
    }

    /** Lines before the document's first line with content (comments count as content: {@code # Source:}). */
    private static int leadingBlankLines(String chunk) {
        int n = 0;
        int at = 0;
        while (at < chunk.length()) {
            int end = chunk.indexOf('\n', at);
            if (end < 0 || !chunk.substring(at, end).isBlank()) {
                break;
            }
            n++;
            at = end + 1;
        }
        return n;
    }

    private Yaml yaml() {
        LoaderOptions options = new LoaderOptions();
        options.setMaxAliasesForCollections(limits.maxAliases());
        options.setAllowDuplicateKeys(true); // duplicates are found and reported by the conversion below
        options.setNestingDepthLimit(limits.maxDepth());
        options.setCodePointLimit(limits.maxBytes());
        return new Yaml(new SafeConstructor(options));
    }

    private static boolean isAliasLimit(YAMLException e) {
        return e.getMessage() != null && e.getMessage().contains("Number of aliases");
    }

    /** The parser's message, its line counted in the whole stream ({@code chunkLine}: where the chunk starts). */
    private static String firstLine(YAMLException e, int chunkLine) {
        if (e instanceof MarkedYAMLException marked && marked.getProblemMark() != null) {
            return marked.getProblem() + " at line " + (marked.getProblemMark().getLine() + chunkLine) + ", column "
                    + (marked.getProblemMark().getColumn() + 1);
        }
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return message.lines().findFirst().orElse(message);
    }

    private static String source(String chunk, String defaultSource) {
        int at = chunk.indexOf(SOURCE_PREFIX);
        if (at < 0 || (at > 0 && chunk.charAt(at - 1) != '\n')) {
            return defaultSource;
        }
        int end = chunk.indexOf('\n', at);
        return chunk.substring(at + SOURCE_PREFIX.length(), end < 0 ? chunk.length() : end).trim();
    }

    /** Node graph to Jackson tree, counting expanded nodes and noting duplicate keys. */
    private final class Conversion {
        final String source;
        final int chunkLine;
        final List<String[]> duplicates = new ArrayList<>();
        int nodes;

        Conversion(String source, int chunkLine) {
            this.source = source;
            this.chunkLine = chunkLine;
        }

        JsonNode convert(Node node, String path, int depth) {
            if (++nodes > limits.maxNodesPerDocument() || depth > limits.maxDepth()) {
                throw new ManifestInputException(ManifestInputException.Reason.YAML_ALIAS_BOMB, source
                        + ": the document expands to more than " + limits.maxNodesPerDocument()
                        + " nodes or nests deeper than " + limits.maxDepth());
            }
            if (node instanceof MappingNode mapping) {
                ObjectNode object = NODES.objectNode();
                java.util.Set<String> explicit = new java.util.HashSet<>();
                for (NodeTuple tuple : mapping.getValue()) {
                    Node keyNode = tuple.getKeyNode();
                    if (keyNode.getTag().equals(Tag.MERGE)) {
                        merge(object, explicit, tuple.getValueNode(), path, depth);
                        continue;
                    }
                    String key = keyNode instanceof ScalarNode scalar ? scalar.getValue() : keyNode.toString();
                    String childPath = Validator.child(path, key);
                    // A key given twice is an error; a key overriding a merged (<<) one is not.
                    if (!explicit.add(key)) {
                        duplicates.add(new String[]{childPath, "duplicate key \"" + key + "\" (line "
                                + (keyNode.getStartMark().getLine() + chunkLine) + ")"});
                    }
                    object.set(key, convert(tuple.getValueNode(), childPath, depth + 1));
                }
                return object;
            }
            if (node instanceof SequenceNode sequence) {
                ArrayNode array = NODES.arrayNode();
                int i = 0;
                for (Node item : sequence.getValue()) {
                    array.add(convert(item, path + "[" + i++ + "]", depth + 1));
                }
                return array;
            }
            return scalar((ScalarNode) node);
        }

        private void merge(ObjectNode into, java.util.Set<String> explicit, Node value, String path, int depth) {
            List<Node> sources = value instanceof SequenceNode seq ? seq.getValue() : List.of(value);
            for (Node s : sources) {
                JsonNode converted = convert(s, path, depth + 1);
                if (converted.isObject()) {
                    converted.fields().forEachRemaining(e -> {
                        if (!explicit.contains(e.getKey()) && !into.has(e.getKey())) {
                            into.set(e.getKey(), e.getValue());
                        }
                    });
                }
            }
        }
    }

    private static JsonNode scalar(ScalarNode node) {
        String value = node.getValue();
        Tag tag = node.getTag();
        if (tag.equals(Tag.NULL)) {
            return NODES.nullNode();
        }
        if (tag.equals(Tag.BOOL)) {
            String v = value.toLowerCase(java.util.Locale.ROOT);
            return NODES.booleanNode(v.equals("true") || v.equals("yes") || v.equals("on") || v.equals("y"));
        }
        if (tag.equals(Tag.INT)) {
            try {
                String v = value.replace("_", "");
                boolean negative = v.startsWith("-");
                String digits = v.startsWith("-") || v.startsWith("+") ? v.substring(1) : v;
                BigInteger number;
                if (digits.startsWith("0x")) {
                    number = new BigInteger(digits.substring(2), 16);
                } else if (digits.startsWith("0o")) {
                    number = new BigInteger(digits.substring(2), 8);
                } else if (digits.length() > 1 && digits.startsWith("0")
                        && digits.chars().allMatch(Character::isDigit)) {
                    number = new BigInteger(digits, 8);
                } else {
                    number = new BigInteger(digits);
                }
                number = negative ? number.negate() : number;
                return number.bitLength() < 64 ? NODES.numberNode(number.longValue()) : NODES.numberNode(number);
            } catch (NumberFormatException e) {
                return NODES.textNode(value);
            }
        }
        if (tag.equals(Tag.FLOAT)) {
            try {
                double d = Double.parseDouble(value.replace("_", ""));
                return NODES.numberNode(d);
            } catch (NumberFormatException e) {
                return NODES.textNode(value); // .inf, .nan: not valid JSON numbers, kept as text
            }
        }
        return NODES.textNode(value);
    }
}
