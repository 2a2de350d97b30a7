package dev.conveyor.manifests.domain;

import java.util.ArrayDeque;
import java.util.Deque;

import dev.conveyor.stage.config.InvalidConfigException;

/** Paths inside an app repository, from untrusted configuration: normalised, and never outside the repository. */
public final class RepoPaths {

    /** A configured path that would leave the repository. */
    public static final class EscapingPath extends InvalidConfigException {
        public EscapingPath(String field, String message) {
            super(field, message);
        }
    }

    private RepoPaths() {
    }

    /**
     * Normalises {@code path} (given in {@code field}) to a relative path without {@code .}, {@code ..} or trailing
     * slash; the repository root is the empty string.
     *
     * @throws InvalidConfigException if the path is absolute, has a backslash or a NUL, or climbs out of the repository
     */
    public static String normalize(String path, String field) {
        if (path.startsWith("/") || path.contains("\\") || path.indexOf('\0') >= 0 || path.matches("^[A-Za-z]:.*")) {
            throw new EscapingPath(field, field + " must be a relative path inside the repository, got '"
                    + path + "'");
        }
        Deque<String> parts = new ArrayDeque<>();
        for (String part : path.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (parts.isEmpty()) {
                    throw new EscapingPath(field, field + " escapes the repository: '" + path + "'");
                }
                parts.removeLast();
            } else {
                parts.addLast(part);
            }
        }
        return String.join("/", parts);
    }
}
