package dev.conveyor.events.v1;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** Argument checks shared by the event records' constructors; each failure names the field. */
final class Checks {

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private Checks() {
    }

    static <T> T required(T value, String field) {
        if (value == null) {
            throw new MissingFieldException(field);
        }
        if (value instanceof String s && s.isBlank()) {
            throw new InvalidFieldException(field, "must not be blank");
        }
        return value;
    }

    static String sha256(String value, String field) {
        required(value, field);
        if (!SHA256.matcher(value).matches()) {
            throw new InvalidFieldException(field, "must be 64 lower-case hex digits (a sha256)");
        }
        return value;
    }

    static String digest(String value, String field) {
        required(value, field);
        if (!value.startsWith("sha256:")) {
            throw new InvalidFieldException(field, "must be a digest of the form sha256:<hex>");
        }
        sha256(value.substring("sha256:".length()), field);
        return value;
    }

    static int atLeast(int value, int min, String field) {
        if (value < min) {
            throw new InvalidFieldException(field, "must be at least " + min + " but was " + value);
        }
        return value;
    }

    static long atLeast(long value, long min, String field) {
        if (value < min) {
            throw new InvalidFieldException(field, "must be at least " + min + " but was " + value);
        }
        return value;
    }

    static <T> List<T> list(List<T> value, String field) {
        return List.copyOf(required(value, field));
    }

    static <K, V> Map<K, V> map(Map<K, V> value, String field) {
        return Map.copyOf(required(value, field));
    }
}
