package dev.conveyor.fluxsync.domain;

import java.util.List;
import java.util.Map;

/**
 * Rollout state of a Deployment, StatefulSet or DaemonSet from its live status, the way {@code kubectl rollout
 * status} judges it.
 */
public final class WorkloadHealth {

    /** Kinds whose rollout is waited for. */
    public static final List<String> KINDS = List.of("Deployment", "StatefulSet", "DaemonSet");

    private WorkloadHealth() {
    }

    /** The verdict: ready, still rolling out, or failed for good (with why). */
    public record Verdict(Status status, String message) {
    }

    public enum Status {
        READY, PROGRESSING, FAILED
    }

    /** The verdict on {@code live}, judged by its own {@code kind}. */
    public static Verdict evaluate(Map<String, Object> live) {
        return evaluate(String.valueOf(live.get("kind")), live);
    }

    /**
     * The verdict on {@code live} judged as a {@code kind}: an object taken from a list has no {@code kind} of its
     * own when a real API server answered (the list's kind is its items' kind).
     */
    @SuppressWarnings("unchecked")
    public static Verdict evaluate(String kind, Map<String, Object> live) {
        Map<String, Object> metadata = map(live.get("metadata"));
        Map<String, Object> spec = map(live.get("spec"));
        Map<String, Object> status = map(live.get("status"));
        long generation = number(metadata.get("generation"), 0);
        long observed = number(status.get("observedGeneration"), generation);
        if (observed < generation) {
            return new Verdict(Status.PROGRESSING, "waiting for the controller to observe generation " + generation);
        }
        switch (kind) {
            case "Deployment" -> {
                for (Object c : (List<Object>) (status.get("conditions") instanceof List<?> l ? l : List.of())) {
                    Map<String, Object> cond = map(c);
                    if ("Progressing".equals(cond.get("type")) && "ProgressDeadlineExceeded".equals(cond.get(
                            "reason"))) {
                        return new Verdict(Status.FAILED, "progress deadline exceeded: " + cond.getOrDefault(
                                "message", ""));
                    }
                }
                long replicas = number(spec.get("replicas"), 1);
                long updated = number(status.get("updatedReplicas"), 0);
                long available = number(status.get("availableReplicas"), 0);
                long total = number(status.get("replicas"), 0);
                if (updated < replicas) {
                    return new Verdict(Status.PROGRESSING, updated + " of " + replicas + " replicas updated");
                }
                if (total > updated) {
                    return new Verdict(Status.PROGRESSING, (total - updated) + " old replicas pending termination");
                }
                if (available < updated) {
                    return new Verdict(Status.PROGRESSING,
                            available + " of " + updated + " updated replicas available");
                }
                return new Verdict(Status.READY, replicas + " replicas available");
            }
            case "StatefulSet" -> {
                long replicas = number(spec.get("replicas"), 1);
                long ready = number(status.get("readyReplicas"), 0);
                long updated = number(status.get("updatedReplicas"), 0);
                Object current = status.get("currentRevision");
                Object update = status.get("updateRevision");
                if (ready < replicas) {
                    return new Verdict(Status.PROGRESSING, ready + " of " + replicas + " pods ready");
                }
                if (update != null && !update.equals(current) && updated < replicas) {
                    return new Verdict(Status.PROGRESSING, updated + " of " + replicas + " pods updated");
                }
                return new Verdict(Status.READY, replicas + " pods ready");
            }
            case "DaemonSet" -> {
                long desired = number(status.get("desiredNumberScheduled"), -1);
                if (desired < 0) {
                    return new Verdict(Status.PROGRESSING, "not scheduled yet");
                }
                long updated = number(status.get("updatedNumberScheduled"), 0);
                long available = number(status.get("numberAvailable"), 0);
                if (updated < desired) {
                    return new Verdict(Status.PROGRESSING, updated + " of " + desired + " pods updated");
                }
                if (available < desired) {
                    return new Verdict(Status.PROGRESSING, available + " of " + desired + " pods available");
                }
                return new Verdict(Status.READY, desired + " pods available");
            }
            default -> {
                return new Verdict(Status.READY, kind + " has no rollout");
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    private static long number(Object o, long otherwise) {
        return o instanceof Number n ? n.longValue() : otherwise;
    }
}
