package dev.conveyor.deploy.grafana;

import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/**
 * A small PromQL lexer that finds the metric names an expression selects, for checking dashboards and alert rules
 * against what the services expose. It is not a parser: it walks the tokens and keeps every identifier that stands
 * where a metric name stands.
 *
 * <p>
 * Skipped: function and aggregation names (an identifier followed by {@code (}), keywords ({@code by},
 * {@code without}, {@code on}, {@code ignoring}, {@code group_left}, {@code group_right}, {@code bool},
 * {@code offset}, {@code and}, {@code or}, {@code unless}, {@code atan2}) and the label lists after them, label matchers
 * <code>{…}</code> (but <code>{__name__="x"}</code> selects {@code x}), strings, range and subquery brackets
 * {@code [5m:1m]}, numbers and durations, {@code @} modifiers, comments, and Grafana variables ({@code $app},
 * <code>${app}</code>, <code>${app:regex}</code>, {@code [[app]]}).
 */
public final class PromQl {

    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "atan2", "bool", "offset",
            "by", "without", "on", "ignoring", "group_left", "group_right",
            // aggregation operators may take their grouping before the parenthesis: sum by (le) (…)
            "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
            "quantile", "limitk", "limit_ratio");
    private static final Set<String> LABEL_LISTS = Set.of("by", "without", "on", "ignoring", "group_left",
            "group_right");
    private static final Set<String> NUMBERS = Set.of("inf", "nan");

    private final String s;
    private int i;

    private PromQl(String expression) {
        this.s = expression;
    }

    /** The metric names {@code expression} selects, in order of appearance. */
    public static Set<String> metricNames(String expression) {
        return new PromQl(expression).scan();
    }

    private Set<String> scan() {
        Set<String> names = new LinkedHashSet<>();
        while (i < s.length()) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '#') {
                skipComment();
            } else if (c == '"' || c == '\'' || c == '`') {
                skipString(c);
            } else if (c == '$') {
                skipVariable();
            } else if (c == '[') {
                skipBracket();
            } else if (c == '{') {
                matchers(names);
            } else if (c == '@') {
                i++;
                skipSpace();
                if (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '-' || s.charAt(i) == '+')) {
                    skipNumber();
                }
            } else if (Character.isDigit(c) || (c == '.' && i + 1 < s.length() && Character.isDigit(s.charAt(i + 1)))) {
                skipNumber();
            } else if (isIdentStart(c)) {
                identifier(names);
            } else {
                i++; // operators, parentheses, commas
            }
        }
        return names;
    }

    private void identifier(Set<String> names) {
        int start = i;
        while (i < s.length() && isIdentPart(s.charAt(i))) {
            i++;
        }
        String word = s.substring(start, i);
        String lower = word.toLowerCase(Locale.ROOT);
        int after = i;
        skipSpace();
        boolean call = i < s.length() && s.charAt(i) == '(';
        if (LABEL_LISTS.contains(lower)) {
            if (call) {
                skipParens();
            }
            return;
        }
        if (lower.equals("offset")) {
            if (i < s.length() && (s.charAt(i) == '-' || s.charAt(i) == '+')) {
                i++;
            }
            skipSpace();
            if (i < s.length() && s.charAt(i) == '$') {
                skipVariable();
            } else {
                skipNumber();
            }
            return;
        }
        i = after;
        if (call || KEYWORDS.contains(lower) || NUMBERS.contains(lower)) {
            return;
        }
        names.add(word);
    }

    /** Label matchers: skipped, except {@code __name__="metric"}. */
    private void matchers(Set<String> names) {
        i++; // {
        while (i < s.length() && s.charAt(i) != '}') {
            char c = s.charAt(i);
            if (c == '"' || c == '\'' || c == '`') {
                skipString(c);
            } else if (isIdentStart(c)) {
                int start = i;
                while (i < s.length() && isIdentPart(s.charAt(i))) {
                    i++;
                }
                String label = s.substring(start, i);
                skipSpace();
                if (label.equals("__name__") && i + 1 < s.length() && s.charAt(i) == '='
                        && s.charAt(i + 1) != '~') {
                    i++;
                    skipSpace();
                    if (i < s.length() && (s.charAt(i) == '"' || s.charAt(i) == '\'' || s.charAt(i) == '`')) {
                        int open = i;
                        skipString(s.charAt(i));
                        names.add(unquote(s.substring(open, i)));
                    }
                }
            } else {
                i++;
            }
        }
        i++; // }
    }

    private void skipComment() {
        while (i < s.length() && s.charAt(i) != '\n') {
            i++;
        }
    }

    private void skipString(char quote) {
        i++;
        while (i < s.length() && s.charAt(i) != quote) {
            if (s.charAt(i) == '\\' && quote != '`') {
                i++;
            }
            i++;
        }
        i++;
    }

    /** {@code $name}, <code>${name}</code>, <code>${name:format}</code>. */
    private void skipVariable() {
        i++;
        if (i < s.length() && s.charAt(i) == '{') {
            while (i < s.length() && s.charAt(i) != '}') {
                i++;
            }
            i++;
        } else {
            while (i < s.length() && isIdentPart(s.charAt(i))) {
                i++;
            }
        }
    }

    /** A range, a subquery range or Grafana's {@code [[variable]]}: nothing in brackets selects a metric. */
    private void skipBracket() {
        int depth = 0;
        while (i < s.length()) {
            char c = s.charAt(i++);
            if (c == '[') {
                depth++;
            } else if (c == ']' && --depth == 0) {
                return;
            }
        }
    }

    private void skipParens() {
        int depth = 0;
        while (i < s.length()) {
            char c = s.charAt(i++);
            if (c == '(') {
                depth++;
            } else if (c == ')' && --depth == 0) {
                return;
            }
        }
    }

    /** Numbers, hex, exponents and durations such as {@code 1h30m} or {@code 250ms}. */
    private void skipNumber() {
        int start = i;
        while (i < s.length()) {
            char c = s.charAt(i);
            char previous = i > start ? s.charAt(i - 1) : ' ';
            boolean hex = s.startsWith("0x", start) || s.startsWith("0X", start);
            boolean exponentSign = (c == '+' || c == '-') && (previous == 'e' || previous == 'E') && !hex;
            if (Character.isLetterOrDigit(c) || c == '.' || c == '_' || exponentSign) {
                i++;
            } else {
                return;
            }
        }
    }

    private void skipSpace() {
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
    }

    private static String unquote(String quoted) {
        return quoted.length() >= 2 ? quoted.substring(1, quoted.length() - 1) : quoted;
    }

    private static boolean isIdentStart(char c) {
        return Character.isLetter(c) || c == '_' || c == ':';
    }

    private static boolean isIdentPart(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == ':';
    }
}
