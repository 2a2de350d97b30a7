package dev.conveyor.fluxsync.domain;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Orders releases so that each comes after the releases it depends on. A release that depends on one that is not
 * declared, is broken, or on itself through a cycle, is left out with a {@link ProblemReason#DEPENDENCY_NOT_READY}
 * problem (and its previous objects are kept), and so are the releases that depend on it.
 */
public final class ReleaseOrder {

    private ReleaseOrder() {
    }

    public static List<ReleaseSpec> sort(List<ReleaseSpec> releases, List<SyncProblem> problems, Set<String> held) {
        Map<String, ReleaseSpec> byId = new LinkedHashMap<>();
        releases.stream().sorted((a, b) -> a.id().compareTo(b.id())).forEach(r -> byId.put(r.id(), r));
        List<ReleaseSpec> out = new ArrayList<>();
        Map<String, Integer> state = new LinkedHashMap<>(); // 1 visiting, 2 done, 3 failed
        for (ReleaseSpec r : byId.values()) {
            visit(r, byId, state, out, problems, held, new ArrayList<>());
        }
        return List.copyOf(out);
    }

    private static boolean visit(ReleaseSpec r, Map<String, ReleaseSpec> byId, Map<String, Integer> state,
            List<ReleaseSpec> out, List<SyncProblem> problems, Set<String> held, List<String> path) {
        Integer s = state.get(r.id());
        if (s != null) {
            if (s == 1) {
                path.add(r.id());
                fail(r, "dependency cycle: " + String.join(" -> ", path), state, problems, held);
                return false;
            }
            return s == 2;
        }
        state.put(r.id(), 1);
        path.add(r.id());
        for (String dep : r.dependsOn()) {
            ReleaseSpec d = byId.get(dep);
            if (d == null) {
                fail(r, "depends on " + dep + ", which is not declared or is invalid", state, problems, held);
                return false;
            }
            if (!visit(d, byId, state, out, problems, held, new ArrayList<>(path))) {
                if (state.get(r.id()) != 3) {
                    fail(r, "depends on " + dep + ", which cannot be synced", state, problems, held);
                }
                return false;
            }
        }
        state.put(r.id(), 2);
        out.add(r);
        return true;
    }

    private static void fail(ReleaseSpec r, String message, Map<String, Integer> state, List<SyncProblem> problems,
            Set<String> held) {
        if (Integer.valueOf(3).equals(state.get(r.id()))) {
            return;
        }
        state.put(r.id(), 3);
        problems.add(new SyncProblem(r.owner(), ProblemReason.DEPENDENCY_NOT_READY, r.object().ref() + ": "
                + message));
        held.add(r.owner());
    }
}
