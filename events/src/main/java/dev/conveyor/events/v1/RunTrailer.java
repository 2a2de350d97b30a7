package dev.conveyor.events.v1;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code Conveyor-Run: <runId>} git trailer: every commit Conveyor makes (version tag message, manifests commit,
 * chart repository commit, GitOps commit) carries it, so whoever reads the history knows which run made the commit.
 * Written and read only here.
 */
public final class RunTrailer {

    /** The trailer's key. */
    public static final String KEY = "Conveyor-Run";

    private static final Pattern TRAILER = Pattern.compile("(?m)^" + KEY + ":[ \\t]*(r-[0-9a-f]{24})[ \\t]*$");

    private RunTrailer() {
    }

    /** The trailer line for {@code runId}, without a line break: {@code Conveyor-Run: r-…}. */
    public static String of(String runId) {
        Checks.required(runId, "runId");
        return KEY + ": " + runId;
    }

    /** Run ids named by trailers in one commit message, in order, without duplicates. */
    public static List<String> parse(String message) {
        Set<String> ids = new LinkedHashSet<>();
        Matcher m = TRAILER.matcher(message == null ? "" : message);
        while (m.find()) {
            ids.add(m.group(1));
        }
        return List.copyOf(ids);
    }

    /** Run ids named by the trailers of several messages (oldest first), without duplicates. */
    public static List<String> parse(List<String> messages) {
        Set<String> ids = new LinkedHashSet<>();
        messages.forEach(msg -> ids.addAll(parse(msg)));
        return List.copyOf(ids);
    }
}
