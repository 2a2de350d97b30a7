package dev.conveyor.fluxsync.domain;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Reading fields of parsed YAML objects without casts all over. */
final class Objects2 {

    private Objects2() {
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Map<String, Object> object, String key) {
        Object v = object == null ? null : object.get(key);
        return v instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
    }

    static Optional<String> string(Map<String, Object> object, String key) {
        Object v = object == null ? null : object.get(key);
        if (v instanceof String s && !s.isBlank()) {
            return Optional.of(s);
        }
        if (v instanceof Number || v instanceof Boolean) {
            return Optional.of(String.valueOf(v));
        }
        return Optional.empty();
    }

    static List<?> list(Map<String, Object> object, String key) {
        Object v = object == null ? null : object.get(key);
        return v instanceof List<?> l ? l : List.of();
    }

    static boolean bool(Map<String, Object> object, String key) {
        Object v = object == null ? null : object.get(key);
        return Boolean.TRUE.equals(v) || "true".equals(v);
    }
}
