package dev.conveyor.fluxsync.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The patterns of the ignore files Flux reads ({@code .fluxignore} for Flux v1, {@code .sourceignore} for Flux v2's
 * source-controller), in gitignore syntax: {@code #} comments, {@code !} negation (the last matching line wins), a
 * trailing {@code /} for directories only, a {@code /} elsewhere anchors the pattern to the ignore file's directory,
 * {@code *}, {@code ?} and {@code **}. Patterns apply below the directory of the file that holds them.
 */
public final class IgnoreRules {

    /** File names read as ignore files. */
    public static final List<String> FILE_NAMES = List.of(".fluxignore", ".sourceignore");

    private record Rule(String source, String base, Pattern pattern, boolean anchored, boolean dirOnly,
            boolean negated) {
    }

    private final List<Rule> rules = new ArrayList<>();

    /** Whether a path's last segment names an ignore file. */
    public static boolean isIgnoreFile(String path) {
        String name = path.substring(path.lastIndexOf('/') + 1);
        return FILE_NAMES.contains(name);
    }

    /** Adds the lines of the ignore file at {@code path} (repository-relative). Call parents before children. */
    public void add(String path, String text) {
        String base = path.contains("/") ? path.substring(0, path.lastIndexOf('/')) : "";
        for (String raw : text.split("\r?\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            boolean negated = line.startsWith("!");
            if (negated) {
                line = line.substring(1);
            }
            boolean dirOnly = line.endsWith("/");
            if (dirOnly) {
                line = line.substring(0, line.length() - 1);
            }
            boolean anchored = line.contains("/");
            if (line.startsWith("/")) {
                line = line.substring(1);
            }
            if (line.isEmpty()) {
                continue;
            }
            rules.add(new Rule(path + ": " + raw.strip(), base, Pattern.compile(glob(line)), anchored, dirOnly,
                    negated));
        }
    }

    /**
     * An ignored path.
     *
     * @param path the file, or the directory ({@code dir/}) whose exclusion excludes the file
     * @param line the ignore file and the line that excludes it ({@code .fluxignore: docs/})
     */
    public record Hit(String path, String line) {
    }

    /**
     * What excludes {@code path} (a file), if anything does. A path excluded through one of its directories is
     * excluded whatever the later lines say about the file itself, as in git.
     */
    public Optional<Hit> ignoredBy(String path) {
        String[] segments = path.split("/");
        // Each ancestor directory first: an ignored directory ignores everything below it.
        StringBuilder prefix = new StringBuilder();
        for (int i = 0; i < segments.length; i++) {
            if (i > 0) {
                prefix.append('/');
            }
            prefix.append(segments[i]);
            boolean dir = i < segments.length - 1;
            Optional<String> by = match(prefix.toString(), dir);
            if (by.isPresent()) {
                return Optional.of(new Hit(dir ? prefix + "/" : prefix.toString(), by.get()));
            }
        }
        return Optional.empty();
    }

    private Optional<String> match(String candidate, boolean dir) {
        String hit = null;
        for (Rule rule : rules) {
            if (rule.dirOnly && !dir) {
                continue;
            }
            String rel;
            if (rule.base.isEmpty()) {
                rel = candidate;
            } else if (candidate.startsWith(rule.base + "/")) {
                rel = candidate.substring(rule.base.length() + 1);
            } else {
                continue;
            }
            boolean matches = rule.anchored
                    ? rule.pattern.matcher(rel).matches()
                    : rule.pattern.matcher(rel.substring(rel.lastIndexOf('/') + 1)).matches();
            if (matches) {
                hit = rule.negated ? null : rule.source;
            }
        }
        return Optional.ofNullable(hit);
    }

    private static String glob(String pattern) {
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c == '*') {
                if (i + 1 < pattern.length() && pattern.charAt(i + 1) == '*') {
                    boolean slash = i + 2 < pattern.length() && pattern.charAt(i + 2) == '/';
                    re.append(slash ? "(?:.*/)?" : ".*");
                    i += slash ? 2 : 1;
                } else {
                    re.append("[^/]*");
                }
            } else if (c == '?') {
                re.append("[^/]");
            } else {
                re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return re.toString();
    }
}
