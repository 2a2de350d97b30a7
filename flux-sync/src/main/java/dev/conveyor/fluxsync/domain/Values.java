package dev.conveyor.fluxsync.domain;

import java.util.LinkedHashMap;
import java.util.Map;

/** Helm values merging: maps merge key by key, everything else (lists included) is replaced. */
public final class Values {

    private Values() {
    }

    /** {@code overlay} over {@code base}; neither is modified. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> merge(Map<String, Object> base, Map<String, Object> overlay) {
        Map<String, Object> out = new LinkedHashMap<>(base);
        overlay.forEach((k, v) -> {
            Object old = out.get(k);
            if (old instanceof Map<?, ?> om && v instanceof Map<?, ?> vm) {
                out.put(k, merge((Map<String, Object>) om, (Map<String, Object>) vm));
            } else {
                out.put(k, v);
            }
        });
        return out;
    }
}
