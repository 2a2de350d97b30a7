package dev.conveyor.fluxsync.domain;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Whether a live object still is what was applied. The applier stamps every object with the hash of its desired form
 * ({@value #HASH_ANNOTATION}); an object is unchanged when the hash matches (git did not change it) and every field git
 * sets still has git's value in the cluster (nobody changed it behind our back). Fields the server or controllers add
 * (status, defaults, uid) do not count.
 */
public final class LiveComparison {

    public static final String HASH_ANNOTATION = "conveyor.dev/applied-hash";

    private LiveComparison() {
    }

    /** The result. */
    public enum State {
        ABSENT, UNCHANGED, CHANGED_IN_GIT, DRIFTED
    }

    public static State compare(Map<String, Object> desired, String desiredHash, Map<String, Object> live) {
        if (live == null) {
            return State.ABSENT;
        }
        Map<?, ?> annotations = nested(live, "metadata", "annotations");
        Object liveHash = annotations == null ? null : annotations.get(HASH_ANNOTATION);
        if (!desiredHash.equals(liveHash)) {
            return State.CHANGED_IN_GIT;
        }
        return contains(live, withoutTypeLiveLacks(desired, live)) ? State.UNCHANGED : State.DRIFTED;
    }

    /**
     * {@code desired} without the top-level {@code apiVersion} / {@code kind} that {@code live} lacks: a real API
     * server leaves them out of the items of a list (kubernetes/kubernetes#3030), and the object was listed as that
     * kind, so their absence is not drift.
     */
    private static Map<String, Object> withoutTypeLiveLacks(Map<String, Object> desired, Map<String, Object> live) {
        if (live.containsKey("apiVersion") && live.containsKey("kind")) {
            return desired;
        }
        Map<String, Object> expected = new LinkedHashMap<>(desired);
        for (String key : List.of("apiVersion", "kind")) {
            if (!live.containsKey(key)) {
                expected.remove(key);
            }
        }
        return expected;
    }

    private static Map<?, ?> nested(Map<String, Object> object, String a, String b) {
        Object m = object.get(a);
        if (m instanceof Map<?, ?> mm && mm.get(b) instanceof Map<?, ?> inner) {
            return inner;
        }
        return null;
    }

    /** Whether every field of {@code subset} has the same value in {@code whole}. */
    public static boolean contains(Object whole, Object subset) {
        if (subset instanceof Map<?, ?> sm) {
            if (!(whole instanceof Map<?, ?> wm)) {
                return false;
            }
            for (Map.Entry<?, ?> e : sm.entrySet()) {
                if (e.getValue() == null) {
                    if (wm.get(e.getKey()) != null) {
                        return false;
                    }
                    continue;
                }
                if (!wm.containsKey(e.getKey()) || !contains(wm.get(e.getKey()), e.getValue())) {
                    return false;
                }
            }
            return true;
        }
        if (subset instanceof List<?> sl) {
            if (!(whole instanceof List<?> wl) || wl.size() != sl.size()) {
                return false;
            }
            for (int i = 0; i < sl.size(); i++) {
                if (!contains(wl.get(i), sl.get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (subset instanceof Number sn && whole instanceof Number wn) {
            return new BigDecimal(sn.toString()).compareTo(new BigDecimal(wn.toString())) == 0;
        }
        return subset.equals(whole);
    }

    /** sha256 of the canonical JSON of {@code object} (keys sorted), hex. */
    public static String hash(Map<String, Object> object) {
        StringBuilder sb = new StringBuilder();
        canonical(object, sb);
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(sb.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 20);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void canonical(Object v, StringBuilder sb) {
        if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<String, Object> e : new TreeMap<String, Object>(stringKeys(m)).entrySet()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                quote(e.getKey(), sb);
                sb.append(':');
                canonical(e.getValue(), sb);
            }
            sb.append('}');
        } else if (v instanceof List<?> l) {
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                canonical(l.get(i), sb);
            }
            sb.append(']');
        } else if (v instanceof String s) {
            quote(s, sb);
        } else {
            sb.append(v);
        }
    }

    private static Map<String, Object> stringKeys(Map<?, ?> m) {
        Map<String, Object> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(String.valueOf(k), v));
        return out;
    }

    private static void quote(String s, StringBuilder sb) {
        sb.append('"');
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                sb.append('\\');
            }
            sb.append(c);
        }
        sb.append('"');
    }
}
