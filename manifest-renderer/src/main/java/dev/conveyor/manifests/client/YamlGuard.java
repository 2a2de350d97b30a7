package dev.conveyor.manifests.client;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Refuses YAML from a repository that Helm (Go) would otherwise expand or recurse into: more than
 * {@value #MAX_ALIASES} aliases to collections ("billion laughs") or nesting deeper than {@value #MAX_DEPTH}. Composes
 * the node graph only (aliases are not expanded), so checking a bomb is cheap.
 */
public final class YamlGuard {

    /** A YAML file refused; the message names it. */
    public static final class UnsafeYaml extends RuntimeException {
        public UnsafeYaml(String message) {
            super(message);
        }
    }

    /** Aliases to collections allowed per file. */
    public static final int MAX_ALIASES = 50;
    /** Nesting depth allowed (collections in collections). */
    public static final int MAX_DEPTH = 100;

    private YamlGuard() {
    }

    /** Checks {@code text}, shown in errors as {@code name}. */
    public static void check(String text, String name) {
        LoaderOptions options = new LoaderOptions();
        options.setMaxAliasesForCollections(MAX_ALIASES);
        options.setNestingDepthLimit(MAX_DEPTH);
        options.setCodePointLimit(Math.max(text.length() + 1, 3 * 1024 * 1024));
        try {
            for (Node ignored : new Yaml(new SafeConstructor(options)).composeAll(new StringReader(text))) {
                // composing is the check
            }
        } catch (YAMLException e) {
            String reason = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
            if (reason.contains("aliases") || reason.contains("Nesting Depth")) {
                throw new UnsafeYaml(name + " is refused: " + reason + " (at most " + MAX_ALIASES
                        + " aliases to collections and " + MAX_DEPTH + " levels of nesting)");
            }
            // Other syntax errors are Helm's to report, with its own wording.
        }
    }

    /** Checks a file if it exists. */
    public static void checkFile(Path file, String name) {
        if (!Files.isRegularFile(file)) {
            return;
        }
        try {
            check(Files.readString(file), name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
