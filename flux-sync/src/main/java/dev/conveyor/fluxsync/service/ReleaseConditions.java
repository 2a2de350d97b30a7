package dev.conveyor.fluxsync.service;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.conveyor.fluxsync.domain.ProblemReason;

/**
 * The status flux-sync writes on a release object: {@code Ready}, {@code Reconciling} and {@code Stalled} with one
 * reason of {@link ProblemReason}, and the revision. {@code Ready=True} only for a release whose workloads were seen
 * ready; {@code Stalled=True} only for a failure a retry cannot fix ({@link ProblemReason#stalls()}).
 *
 * @param revision the revision the release was synced at
 * @param releaseName the Helm release name
 * @param ready the {@code Ready} condition
 * @param reconciling the {@code Reconciling} condition
 * @param stalled the {@code Stalled} condition
 */
public record ReleaseConditions(String revision, String releaseName, Condition ready, Condition reconciling,
        Condition stalled) {

    /**
     * One condition.
     *
     * @param type {@code Ready}, {@code Reconciling} or {@code Stalled}
     * @param status true or false
     * @param reason why
     * @param message for people
     */
    public record Condition(String type, boolean status, ProblemReason reason, String message) {

        Map<String, Object> toMap(Instant now) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("type", type);
            c.put("status", status ? "True" : "False");
            c.put("reason", reason.condition());
            c.put("message", message);
            c.put("lastTransitionTime", now.toString());
            return c;
        }
    }

    /** The conditions of a release result. */
    public static ReleaseConditions of(ReleaseResult result, String revision) {
        boolean ready = result.state() == ReleaseResult.State.HEALTHY;
        boolean reconciling = result.state() == ReleaseResult.State.PROGRESSING;
        return new ReleaseConditions(revision, result.releaseName(),
                new Condition("Ready", ready, result.reason(), result.message()),
                new Condition("Reconciling", reconciling, ready ? ProblemReason.SUCCEEDED : result.reason(),
                        result.message()),
                new Condition("Stalled", result.stalled(), result.reason(), result.message()));
    }

    /** The {@code status} object of the release, transition times {@code now}. */
    public Map<String, Object> toStatus(Instant now) {
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("observedGeneration", 1);
        status.put("lastAppliedRevision", revision);
        status.put("lastAttemptedRevision", revision);
        status.put("helmReleaseName", releaseName);
        status.put("conditions", List.of(ready.toMap(now), reconciling.toMap(now), stalled.toMap(now)));
        return status;
    }
}
