package dev.conveyor.fluxsync.domain;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The {@code Conveyor-Run: <runId>} trailers the promoter puts on every GitOps commit. */
public final class RunTrailers {

    private static final Pattern TRAILER = Pattern.compile("(?m)^Conveyor-Run:[ \\t]*(r-[0-9a-f]{24})[ \\t]*$");

    private RunTrailers() {
    }

    /** Run ids in one commit message, in order, without duplicates. */
    public static List<String> of(String message) {
        Set<String> ids = new LinkedHashSet<>();
        Matcher m = TRAILER.matcher(message == null ? "" : message);
        while (m.find()) {
            ids.add(m.group(1));
        }
        return List.copyOf(ids);
    }

    /** Run ids of several messages (oldest first), without duplicates. */
    public static List<String> of(List<String> messages) {
        Set<String> ids = new LinkedHashSet<>();
        messages.forEach(msg -> ids.addAll(of(msg)));
        return List.copyOf(ids);
    }
}
