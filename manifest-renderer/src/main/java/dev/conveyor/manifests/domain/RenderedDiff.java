package dev.conveyor.manifests.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The difference between the base branch's rendered manifests and a pull request's: objects added, changed and removed,
 * with a unified diff per changed object, as Markdown for the pull request comment, capped in size.
 *
 * @param added files only in the pull request
 * @param changed files in both, with different content
 * @param removed files only in the base
 * @param text the rendered report, at most the cap given to {@link #between}
 * @param truncated whether {@code text} was cut at the cap
 */
public record RenderedDiff(List<String> added, List<String> changed, List<String> removed, String text,
        boolean truncated) {

    private static final int CONTEXT = 3;
    private static final int MAX_LINES_TO_DIFF = 4000;

    public RenderedDiff {
        added = List.copyOf(added);
        changed = List.copyOf(changed);
        removed = List.copyOf(removed);
    }

    /** Whether the pull request changes no rendered object. */
    public boolean empty() {
        return added.isEmpty() && changed.isEmpty() && removed.isEmpty();
    }

    /** Compares {@code base} with {@code head}; the report is cut to {@code maxChars}. */
    public static RenderedDiff between(ManifestSet base, ManifestSet head, int maxChars) {
        List<String> added = new ArrayList<>();
        List<String> changed = new ArrayList<>();
        List<String> removed = new ArrayList<>();
        TreeSet<String> names = new TreeSet<>(base.files().keySet());
        names.addAll(head.files().keySet());
        StringBuilder text = new StringBuilder();
        for (String name : names) {
            String before = base.files().get(name);
            String after = head.files().get(name);
            if (before == null) {
                added.add(name);
            } else if (after == null) {
                removed.add(name);
            } else if (!before.equals(after)) {
                changed.add(name);
            }
        }
        text.append("Rendered manifests: ").append(added.size()).append(" added, ").append(changed.size())
                .append(" changed, ").append(removed.size()).append(" removed\n");
        for (String name : added) {
            text.append("\n+ added ").append(name).append('\n');
        }
        for (String name : removed) {
            text.append("\n- removed ").append(name).append('\n');
        }
        for (String name : changed) {
            text.append("\n```diff\n").append(unified("a/" + name, "b/" + name, base.files().get(name), head.files()
                    .get(name))).append("```\n");
        }
        boolean truncated = text.length() > maxChars;
        String report = text.toString();
        if (truncated) {
            String marker = "\n... diff truncated at " + maxChars + " characters\n";
            report = report.substring(0, Math.max(0, maxChars - marker.length())) + marker;
        }
        return new RenderedDiff(added, changed, removed, report, truncated);
    }

    /** A unified diff of two texts with three lines of context. */
    static String unified(String fromName, String toName, String from, String to) {
        String[] a = lines(from);
        String[] b = lines(to);
        StringBuilder out = new StringBuilder("--- ").append(fromName).append("\n+++ ").append(toName).append('\n');
        if (a.length > MAX_LINES_TO_DIFF || b.length > MAX_LINES_TO_DIFF) {
            return out.append("@@ object too large to diff line by line (").append(a.length).append(" -> ")
                    .append(b.length).append(" lines) @@\n").toString();
        }
        // Longest common subsequence table, then a walk that yields ' ', '-' and '+' lines.
        int[][] lcs = new int[a.length + 1][b.length + 1];
        for (int i = a.length - 1; i >= 0; i--) {
            for (int j = b.length - 1; j >= 0; j--) {
                lcs[i][j] = a[i].equals(b[j]) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
            }
        }
        List<char[]> ops = new ArrayList<>(); // {op, unused}; lines kept in parallel lists
        List<String> lines = new ArrayList<>();
        int i = 0;
        int j = 0;
        while (i < a.length || j < b.length) {
            if (i < a.length && j < b.length && a[i].equals(b[j])) {
                ops.add(new char[]{' '});
                lines.add(a[i]);
                i++;
                j++;
            } else if (i < a.length && (j == b.length || lcs[i + 1][j] >= lcs[i][j + 1])) {
                ops.add(new char[]{'-'});
                lines.add(a[i]);
                i++;
            } else {
                ops.add(new char[]{'+'});
                lines.add(b[j]);
                j++;
            }
        }
        // Group changes into hunks with context.
        int n = ops.size();
        int k = 0;
        while (k < n) {
            if (ops.get(k)[0] == ' ') {
                k++;
                continue;
            }
            int start = Math.max(0, k - CONTEXT);
            int end = k;
            int lastChange = k;
            while (end < n && (ops.get(end)[0] != ' ' || end - lastChange <= 2 * CONTEXT)) {
                if (ops.get(end)[0] != ' ') {
                    lastChange = end;
                }
                end++;
            }
            end = Math.min(n, lastChange + CONTEXT + 1);
            int aStart = 1;
            int bStart = 1;
            for (int x = 0; x < start; x++) {
                if (ops.get(x)[0] != '+') {
                    aStart++;
                }
                if (ops.get(x)[0] != '-') {
                    bStart++;
                }
            }
            int aLen = 0;
            int bLen = 0;
            for (int x = start; x < end; x++) {
                if (ops.get(x)[0] != '+') {
                    aLen++;
                }
                if (ops.get(x)[0] != '-') {
                    bLen++;
                }
            }
            out.append("@@ -").append(aStart).append(',').append(aLen).append(" +").append(bStart).append(',')
                    .append(bLen).append(" @@\n");
            for (int x = start; x < end; x++) {
                out.append(ops.get(x)[0]).append(lines.get(x)).append('\n');
            }
            k = end;
        }
        return out.toString();
    }

    private static String[] lines(String text) {
        String body = text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
        return body.isEmpty() ? new String[0] : body.split("\n", -1);
    }

    /** Convenience for tests and callers holding plain maps. */
    public static RenderedDiff between(Map<String, String> base, Map<String, String> head, int maxChars) {
        return between(ManifestSet.ofFiles(base), ManifestSet.ofFiles(head), maxChars);
    }
}
