package dev.conveyor.fluxsync.domain;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Semantic version constraints as Helm and Flux write them (the Masterminds/semver dialect): comparators {@code >=},
 * {@code >}, {@code <=}, {@code <}, {@code =}, {@code !=} joined by spaces or commas (and), {@code ||} (or),
 * wildcards ({@code *}, {@code 1.x}, {@code 1.2.*}), tilde ({@code ~1.2} = {@code >=1.2.0 <1.3.0}), caret
 * ({@code ^1.2} = {@code >=1.2.0 <2.0.0}) and hyphen ranges ({@code 1.2 - 1.4}). Pre-releases match only a
 * constraint that names a pre-release itself, as Helm.
 */
public final class SemverRange {

    /** A version: major, minor, patch and a pre-release (empty for a release). */
    public record Version(long major, long minor, long patch, String pre) implements Comparable<Version> {

        private static final Pattern FORM = Pattern.compile(
                "v?(\\d+)(?:\\.(\\d+))?(?:\\.(\\d+))?(?:-([0-9A-Za-z.-]+))?(?:\\+[0-9A-Za-z.-]+)?");

        /** Parses {@code 1.2.3}, {@code v1.2}, {@code 1.2.3-rc.1+build}; empty when it is not a version. */
        public static Optional<Version> parse(String text) {
            Matcher m = FORM.matcher(text.strip());
            if (!m.matches()) {
                return Optional.empty();
            }
            return Optional.of(new Version(Long.parseLong(m.group(1)), m.group(2) == null
                    ? 0
                    : Long.parseLong(m
                            .group(2)),
                    m.group(3) == null ? 0 : Long.parseLong(m.group(3)), m.group(4) == null
                            ? ""
                            : m
                                    .group(4)));
        }

        @Override
        public int compareTo(Version o) {
            int c = Long.compare(major, o.major);
            if (c == 0) {
                c = Long.compare(minor, o.minor);
            }
            if (c == 0) {
                c = Long.compare(patch, o.patch);
            }
            if (c == 0) {
                c = comparePre(pre, o.pre);
            }
            return c;
        }

        private static int comparePre(String a, String b) {
            if (a.equals(b)) {
                return 0;
            }
            if (a.isEmpty()) {
                return 1;
            }
            if (b.isEmpty()) {
                return -1;
            }
            String[] x = a.split("\\.");
            String[] y = b.split("\\.");
            for (int i = 0; i < Math.min(x.length, y.length); i++) {
                boolean xn = x[i].matches("\\d+");
                boolean yn = y[i].matches("\\d+");
                int c = xn && yn
                        ? Long.compare(Long.parseLong(x[i]), Long.parseLong(y[i]))
                        : xn ? -1 : yn ? 1 : x[i].compareTo(y[i]);
                if (c != 0) {
                    return c;
                }
            }
            return Integer.compare(x.length, y.length);
        }
    }

    private record Comparator(String op, Version version) {
        boolean test(Version v) {
            int c = v.compareTo(version);
            return switch (op) {
                case ">=" -> c >= 0;
                case ">" -> c > 0;
                case "<=" -> c <= 0;
                case "<" -> c < 0;
                case "!=" -> c != 0;
                default -> c == 0;
            };
        }
    }

    private static final Pattern TERM = Pattern.compile("(>=|<=|!=|=>|=<|>|<|=|~>|~|\\^)?\\s*(v?[0-9xX*][^\\s,]*)");

    private final String text;
    /** Alternatives (or) of comparator lists (and). */
    private final List<List<Comparator>> alternatives;
    private final boolean allowsPre;

    private SemverRange(String text, List<List<Comparator>> alternatives, boolean allowsPre) {
        this.text = text;
        this.alternatives = alternatives;
        this.allowsPre = allowsPre;
    }

    /** Whether {@code text} is one exact version (no operator, no wildcard): then it is matched as written. */
    public static boolean isExact(String text) {
        return Version.parse(text).isPresent() && text.strip().matches("v?\\d+\\.\\d+\\.\\d+([-+].*)?");
    }

    /**
     * Parses a constraint.
     *
     * @throws IllegalArgumentException with a message naming the constraint when it cannot be read
     */
    public static SemverRange parse(String text) {
        List<List<Comparator>> alternatives = new ArrayList<>();
        boolean pre = false;
        for (String alternative : text.split("\\|\\|")) {
            String a = alternative.strip();
            List<Comparator> all = new ArrayList<>();
            Matcher hyphen = Pattern.compile("(\\S+)\\s+-\\s+(\\S+)").matcher(a);
            if (hyphen.matches()) {
                all.addAll(expand(">=", hyphen.group(1), text));
                all.addAll(expand("<=", hyphen.group(2), text));
            } else {
                Matcher m = TERM.matcher(a);
                int end = 0;
                int terms = 0;
                while (m.find()) {
                    terms++;
                    String between = a.substring(end, m.start());
                    if (!between.replace(",", "").isBlank()) {
                        throw new IllegalArgumentException("'" + text + "' is not a semver constraint (at '"
                                + between.strip() + "')");
                    }
                    all.addAll(expand(m.group(1) == null ? "=" : m.group(1), m.group(2), text));
                    end = m.end();
                }
                if (!a.substring(end).replace(",", "").isBlank() || terms == 0 && !a.isEmpty()) {
                    throw new IllegalArgumentException("'" + text + "' is not a semver constraint");
                }
            }
            pre |= all.stream().anyMatch(c -> !c.version().pre().isEmpty());
            alternatives.add(all);
        }
        return new SemverRange(text, alternatives, pre);
    }

    /** Comparators for one term, with wildcards and partial versions filled in. */
    private static List<Comparator> expand(String op, String version, String text) {
        String v = version.startsWith("v") ? version.substring(1) : version;
        String[] parts = v.split("-", 2)[0].split("\\.");
        int fixed = 0;
        for (String p : parts) {
            if (p.equals("x") || p.equals("X") || p.equals("*")) {
                break;
            }
            if (!p.matches("\\d+")) {
                throw new IllegalArgumentException("'" + text + "' is not a semver constraint (at '" + version
                        + "')");
            }
            fixed++;
        }
        if (fixed == 0) {
            return List.of(); // *: anything
        }
        long major = Long.parseLong(parts[0]);
        long minor = fixed > 1 ? Long.parseLong(parts[1]) : 0;
        long patch = fixed > 2 ? Long.parseLong(parts[2]) : 0;
        String pre = fixed > 2 && v.contains("-") ? v.substring(v.indexOf('-') + 1).split("\\+")[0] : "";
        Version low = new Version(major, minor, patch, pre);
        Version nextMinor = new Version(major, minor + 1, 0, "");
        Version nextMajor = new Version(major + 1, 0, 0, "");
        Version partialNext = fixed == 1 ? nextMajor : fixed == 2 ? nextMinor : null;
        return switch (op) {
            case "~", "~>" -> List.of(new Comparator(">=", low), new Comparator("<", fixed == 1
                    ? nextMajor
                    : nextMinor));
            case "^" -> List.of(new Comparator(">=", low), new Comparator("<", major > 0 || fixed == 1
                    ? nextMajor
                    : minor > 0 || fixed == 2 ? nextMinor : new Version(0, 0, patch + 1, "")));
            case "=" -> partialNext == null
                    ? List.of(new Comparator("=", low))
                    : List.of(new Comparator(">=", low), new Comparator("<", partialNext));
            case "!=" -> partialNext == null ? List.of(new Comparator("!=", low)) : List.of(); // rare: ignored
            case ">", ">=", "=>" -> List.of(new Comparator(op.equals(">") && partialNext != null
                    ? ">="
                    : op.equals("=>") ? ">=" : op, op.equals(">") && partialNext != null ? partialNext : low));
            case "<", "<=", "=<" -> List.of(new Comparator(op.equals("<=") || op.equals("=<")
                    ? partialNext != null ? "<" : "<="
                    : "<",
                    (op.equals("<=") || op.equals("=<")) && partialNext != null
                            ? partialNext
                            : low));
            default -> throw new IllegalArgumentException("'" + text + "': unknown operator " + op);
        };
    }

    /** Whether a version satisfies the constraint. */
    public boolean test(Version v) {
        if (!v.pre().isEmpty() && !allowsPre) {
            return false;
        }
        for (List<Comparator> all : alternatives) {
            if (all.stream().allMatch(c -> c.test(v))) {
                return true;
            }
        }
        return false;
    }

    /** The highest of {@code versions} that satisfies the constraint (versions that do not parse are ignored). */
    public Optional<String> highest(Collection<String> versions) {
        String best = null;
        Version bestVersion = null;
        for (String s : versions) {
            Optional<Version> v = Version.parse(s);
            if (v.isPresent() && test(v.get()) && (bestVersion == null || v.get().compareTo(bestVersion) > 0)) {
                best = s;
                bestVersion = v.get();
            }
        }
        return Optional.ofNullable(best);
    }

    @Override
    public String toString() {
        return text;
    }
}
