package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.conveyor.fluxsync.domain.ProblemReason;

/** Conditions of a release result, and the one reason vocabulary they use. */
class ReleaseConditionsTest {

    static ReleaseResult result(ReleaseResult.State state, ProblemReason reason) {
        return new ReleaseResult("ns", "web", "web", state, List.of(), reason, "why", false);
    }

    static String of(ReleaseResult r) {
        return ReleaseConditions.of(r, "abc").toStatus(Instant.EPOCH).get("conditions").toString();
    }

    @Test
    void readyOnlyWhenHealthy() {
        assertThat(of(result(ReleaseResult.State.HEALTHY, ProblemReason.SUCCEEDED))).contains(
                "type=Ready, status=True, reason=ReconciliationSucceeded").contains("type=Stalled, status=False");
        assertThat(of(result(ReleaseResult.State.DEGRADED, ProblemReason.ROLLOUT_TIMEOUT))).contains(
                "type=Ready, status=False, reason=RolloutTimeout").contains(
                        "type=Reconciling, status=False, reason=RolloutTimeout")
                .contains("type=Stalled, status=False");
        assertThat(of(result(ReleaseResult.State.PROGRESSING, ProblemReason.PROGRESSING))).contains(
                "type=Reconciling, status=True, reason=Progressing");
    }

    @Test
    void stalledOnlyForFailuresARetryCannotFix() {
        assertThat(of(result(ReleaseResult.State.FAILED, ProblemReason.REMOVED_API))).contains(
                "type=Stalled, status=True, reason=RemovedApi");
        assertThat(of(result(ReleaseResult.State.FAILED, ProblemReason.CHART_SOURCE_UNREACHABLE))).contains(
                "type=Ready, status=False, reason=ChartSourceUnreachable").contains("type=Stalled, status=False");
        assertThat(of(result(ReleaseResult.State.FAILED, ProblemReason.DEPENDENCY_NOT_READY))).contains(
                "reason=DependencyNotReady").contains("type=Stalled, status=False");
    }

    @Test
    void theStatusCarriesRevisionAndReleaseName() {
        Map<String, Object> status = ReleaseConditions.of(result(ReleaseResult.State.HEALTHY,
                ProblemReason.SUCCEEDED), "abc").toStatus(Instant.EPOCH);
        assertThat(status).containsEntry("lastAppliedRevision", "abc").containsEntry("lastAttemptedRevision", "abc")
                .containsEntry("helmReleaseName", "web");
        // equal results, equal conditions: the writer compares them to skip a write
        assertThat(ReleaseConditions.of(result(ReleaseResult.State.HEALTHY, ProblemReason.SUCCEEDED), "abc"))
                .isEqualTo(ReleaseConditions.of(result(ReleaseResult.State.HEALTHY, ProblemReason.SUCCEEDED), "abc"));
    }

    @Test
    void everyReasonHasOneCamelCaseValue() {
        assertThat(Arrays.stream(ProblemReason.values()).map(ProblemReason::condition)).doesNotHaveDuplicates()
                .allMatch(v -> v.matches("[A-Z][A-Za-z]+"));
        for (ProblemReason r : ProblemReason.values()) {
            assertThat(ProblemReason.of(r.condition())).contains(r);
            assertThat(ProblemReason.of(r.name())).contains(r);
        }
    }
}
