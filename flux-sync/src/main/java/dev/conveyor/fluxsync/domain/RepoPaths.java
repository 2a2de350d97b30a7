package dev.conveyor.fluxsync.domain;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;

/** Path rules for files of an untrusted repository. */
public final class RepoPaths {

    private RepoPaths() {
    }

    /**
     * {@code relative} resolved against {@code base} (both repository-relative, {@code /}-separated) and normalised;
     * empty if it is absolute or climbs out of {@code base}.
     */
    public static Optional<String> resolveWithin(String base, String relative) {
        if (relative == null || relative.isBlank() || relative.startsWith("/") || relative.contains("\\")
                || relative.indexOf('\0') >= 0) {
            return Optional.empty();
        }
        Deque<String> segments = new ArrayDeque<>();
        int baseDepth = 0;
        for (String s : base.split("/")) {
            if (!s.isEmpty() && !".".equals(s)) {
                segments.addLast(s);
                baseDepth++;
            }
        }
        for (String s : relative.split("/")) {
            if (s.isEmpty() || ".".equals(s)) {
                continue;
            }
            if ("..".equals(s)) {
                if (segments.size() <= baseDepth) {
                    return Optional.empty();
                }
                segments.removeLast();
            } else {
                segments.addLast(s);
            }
        }
        if (segments.size() == baseDepth) {
            return Optional.empty();
        }
        return Optional.of(String.join("/", segments));
    }
}
