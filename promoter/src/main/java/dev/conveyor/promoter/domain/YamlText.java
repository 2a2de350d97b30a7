package dev.conveyor.promoter.domain;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeId;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * Edits one YAML document as text: a value is located through a parse that keeps positions, and only its characters
 * are replaced (or one line inserted for a missing key), so comments, key order, quoting and every other value stay
 * byte for byte. Hostile input is bounded: size, nesting and alias limits, duplicate keys refused.
 */
public final class YamlText {

    /** Largest document edited. */
    public static final int MAX_CHARS = 512 * 1024;

    /** Most nodes a document may expand to when its aliases are followed (an alias bomb expands to billions). */
    public static final int MAX_EXPANDED_NODES = 100_000;

    private static final Pattern PLAIN_SAFE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/@:+-]*");
    private static final Resolver RESOLVER = new Resolver();

    private final String file;
    private final String text;
    private final MappingNode root;

    private YamlText(String file, String text, MappingNode root) {
        this.file = file;
        this.text = text;
        this.root = root;
    }

    /**
     * Parses a single YAML document whose top level is a mapping.
     *
     * @param file the file's name, used in error messages
     * @throws InvalidDocumentException when the text is not such a document
     */
    public static YamlText parse(String file, String text) {
        if (text.length() > MAX_CHARS) {
            throw new InvalidDocumentException(file, file + " is larger than " + MAX_CHARS + " characters");
        }
        try {
            LoaderOptions options = new LoaderOptions();
            options.setMaxAliasesForCollections(20);
            options.setAllowDuplicateKeys(false);
            options.setNestingDepthLimit(64);
            options.setCodePointLimit(MAX_CHARS);
            List<Node> documents = new ArrayList<>();
            new Yaml(options).composeAll(new StringReader(text)).forEach(documents::add);
            if (documents.size() != 1) {
                throw new InvalidDocumentException(file, file + " must hold exactly one YAML document, found "
                        + documents.size());
            }
            if (!(documents.get(0) instanceof MappingNode mapping)) {
                throw new InvalidDocumentException(file, file + " must be a mapping at the top level");
            }
            String duplicate = duplicateKey(mapping, 0);
            if (duplicate != null) {
                throw new InvalidDocumentException(duplicate, file + " has the key " + duplicate + " twice");
            }
            if (expandedSize(mapping, new int[]{0}, 0) > MAX_EXPANDED_NODES) {
                throw new InvalidDocumentException(file, file + " expands to more than " + MAX_EXPANDED_NODES
                        + " nodes through its aliases");
            }
            return new YamlText(file, text, mapping);
        } catch (YAMLException e) {
            String message = e.getMessage() == null
                    ? e.getClass().getSimpleName()
                    : e.getMessage().lines()
                            .findFirst().orElse("");
            throw new InvalidDocumentException(file, file + " is not valid YAML: " + message);
        }
    }

    /** The dotted path of the first duplicate key (the composer keeps duplicates; only construction checks). */
    private static String duplicateKey(Node node, int depth) {
        if (!(node instanceof MappingNode mapping) || depth > 64) {
            return null;
        }
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (NodeTuple tuple : mapping.getValue()) {
            if (tuple.getKeyNode() instanceof ScalarNode key) {
                if (!seen.add(key.getValue())) {
                    return key.getValue();
                }
                String nested = duplicateKey(tuple.getValueNode(), depth + 1);
                if (nested != null) {
                    return key.getValue() + "." + nested;
                }
            }
        }
        return null;
    }

    private static int expandedSize(Node node, int[] count, int depth) {
        if (++count[0] > MAX_EXPANDED_NODES || depth > 64) {
            return MAX_EXPANDED_NODES + 1;
        }
        if (node instanceof MappingNode mapping) {
            for (NodeTuple tuple : mapping.getValue()) {
                expandedSize(tuple.getKeyNode(), count, depth + 1);
                if (expandedSize(tuple.getValueNode(), count, depth + 1) > MAX_EXPANDED_NODES) {
                    return count[0];
                }
            }
        } else if (node instanceof org.yaml.snakeyaml.nodes.SequenceNode sequence) {
            for (Node item : sequence.getValue()) {
                if (expandedSize(item, count, depth + 1) > MAX_EXPANDED_NODES) {
                    return count[0];
                }
            }
        }
        return count[0];
    }

    /** The document's text. */
    public String text() {
        return text;
    }

    /** The node at a key path, if every key on the way exists. */
    public Optional<Node> find(String... path) {
        Node node = root;
        for (String key : path) {
            if (!(node instanceof MappingNode mapping)) {
                return Optional.empty();
            }
            node = valueOf(mapping, key);
            if (node == null) {
                return Optional.empty();
            }
        }
        return Optional.of(node);
    }

    /** The string value of a scalar at a key path. */
    public Optional<String> string(String... path) {
        return find(path).filter(ScalarNode.class::isInstance).map(n -> ((ScalarNode) n).getValue());
    }

    /**
     * The document with the scalar at {@code path} set to {@code value}: the old scalar's characters are replaced, or,
     * when keys are missing, they are inserted as block lines below the deepest existing mapping, indented like its
     * other keys. Returns this document unchanged when the value is already there.
     *
     * @throws InvalidDocumentException when a key on the way holds something other than a mapping, or the target
     *     holds a mapping or list
     */
    public YamlText set(String value, String... path) {
        MappingNode parent = root;
        for (int i = 0; i < path.length; i++) {
            Node child = valueOf(parent, path[i]);
            String field = String.join(".", java.util.Arrays.copyOf(path, i + 1));
            if (child == null) {
                return withText(insert(parent, java.util.Arrays.copyOfRange(path, i, path.length), value, field));
            }
            if (i == path.length - 1) {
                if (!(child instanceof ScalarNode scalar)) {
                    throw new InvalidDocumentException(field, file + ": " + field + " must be a single value, not a "
                            + (child.getNodeId() == NodeId.mapping ? "mapping" : "list"));
                }
                if (scalar.getValue().equals(value) && scalar.getTag().equals(Tag.STR)) {
                    return this;
                }
                int start = offset(scalar.getStartMark().getIndex());
                int end = offset(scalar.getEndMark().getIndex());
                String replacement = render(value, scalar.getScalarStyle());
                return withText(text.substring(0, start) + replacement + text.substring(end));
            }
            if (!(child instanceof MappingNode mapping)) {
                throw new InvalidDocumentException(field, file + ": " + field + " must be a mapping");
            }
            parent = mapping;
        }
        throw new IllegalArgumentException("empty path");
    }

    private String insert(MappingNode parent, String[] missing, String value, String field) {
        if (parent.getFlowStyle() == DumperOptions.FlowStyle.FLOW || parent.getValue().isEmpty()) {
            throw new InvalidDocumentException(field, file + ": cannot add " + field
                    + " to a flow-style or empty mapping; write it as a block mapping");
        }
        List<NodeTuple> tuples = parent.getValue();
        int indent = tuples.get(0).getKeyNode().getStartMark().getColumn();
        int end = offset(lastScalar(tuples.get(tuples.size() - 1).getValueNode()).getEndMark().getIndex());
        // Block values end at the start of the next line; scalars end on their own line.
        int at;
        if (end > 0 && text.charAt(end - 1) == '\n') {
            at = end;
        } else {
            int newline = text.indexOf('\n', end);
            at = newline < 0 ? text.length() : newline + 1;
        }
        StringBuilder lines = new StringBuilder();
        if (at == text.length() && !text.isEmpty() && text.charAt(text.length() - 1) != '\n') {
            lines.append('\n');
        }
        int step = indent == 0 ? 2 : Math.max(2, guessStep(parent));
        for (int i = 0; i < missing.length; i++) {
            lines.append(" ".repeat(indent + i * step)).append(renderKey(missing[i])).append(':');
            if (i == missing.length - 1) {
                lines.append(' ').append(render(value, DumperOptions.ScalarStyle.PLAIN));
            }
            lines.append('\n');
        }
        return text.substring(0, at) + lines + text.substring(at);
    }

    /** The last scalar of a subtree: a block collection's own end mark lies at the next token, maybe lines later. */
    private static Node lastScalar(Node node) {
        if (node instanceof MappingNode mapping && !mapping.getValue().isEmpty()
                && mapping.getFlowStyle() != DumperOptions.FlowStyle.FLOW) {
            return lastScalar(mapping.getValue().get(mapping.getValue().size() - 1).getValueNode());
        }
        if (node instanceof org.yaml.snakeyaml.nodes.SequenceNode sequence && !sequence.getValue().isEmpty()
                && sequence.getFlowStyle() != DumperOptions.FlowStyle.FLOW) {
            return lastScalar(sequence.getValue().get(sequence.getValue().size() - 1));
        }
        return node;
    }

    private static int guessStep(MappingNode parent) {
        for (NodeTuple tuple : parent.getValue()) {
            if (tuple.getValueNode() instanceof MappingNode child && !child.getValue().isEmpty()
                    && child.getFlowStyle() != DumperOptions.FlowStyle.FLOW) {
                return child.getValue().get(0).getKeyNode().getStartMark().getColumn()
                        - tuple.getKeyNode().getStartMark().getColumn();
            }
        }
        return 2;
    }

    private YamlText withText(String newText) {
        return parse(file, newText);
    }

    private int offset(int codePointIndex) {
        return text.offsetByCodePoints(0, codePointIndex);
    }

    private static Node valueOf(MappingNode mapping, String key) {
        for (NodeTuple tuple : mapping.getValue()) {
            if (tuple.getKeyNode() instanceof ScalarNode k && k.getValue().equals(key)) {
                return tuple.getValueNode();
            }
        }
        return null;
    }

    private static String renderKey(String key) {
        return PLAIN_SAFE.matcher(key).matches() ? key : doubleQuoted(key);
    }

    /** A scalar as YAML text that reads back as the same string, in the old style where that is safe. */
    static String render(String value, DumperOptions.ScalarStyle style) {
        if (style == DumperOptions.ScalarStyle.SINGLE_QUOTED) {
            return "'" + value.replace("'", "''") + "'";
        }
        if (style == DumperOptions.ScalarStyle.PLAIN && PLAIN_SAFE.matcher(value).matches()
                && RESOLVER.resolve(NodeId.scalar, value, true).equals(Tag.STR)) {
            return value;
        }
        return doubleQuoted(value);
    }

    private static String doubleQuoted(String value) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : value.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\x%02x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
