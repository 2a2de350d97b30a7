package dev.conveyor.fluxsync.service;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import dev.conveyor.events.v1.SyncSummary;
import dev.conveyor.fluxsync.domain.DesiredState;
import dev.conveyor.fluxsync.domain.SyncProblem;

/**
 * The outcome of one sync of one repository.
 *
 * @param repo the repository's name
 * @param url its remote (redacted)
 * @param revision the synced commit
 * @param newRevision whether the revision differs from the previous sync's
 * @param runIds run ids of the {@code Conveyor-Run} trailers of the commits since the revision last reported, up to
 *     this one
 * @param summary object counts
 * @param drifted objects changed behind git's back and restored
 * @param problems what could not be synced
 * @param releases per release
 * @param duration how long it took
 * @param health the rollout waits still running, by release id ({@code namespace/name}): the final result of each
 *     release that is {@link ReleaseResult.State#PROGRESSING} here
 * @param sequence the number of this sync of the repository in this process (orders reports, see
 *     {@link RepoReconciler#reported})
 * @param skipped what the revision holds but flux-sync does not apply, with the reason
 *     ({@link dev.conveyor.fluxsync.domain.DesiredState#skipped()})
 * @param timings where the time went, per phase
 */
public record SyncResult(String repo, String url, String revision, boolean newRevision, List<String> runIds,
        SyncSummary summary, int drifted, List<SyncProblem> problems, List<ReleaseResult> releases,
        Duration duration, Map<String, CompletableFuture<ReleaseResult>> health, long sequence,
        List<DesiredState.Skipped> skipped, SyncTimings timings) {

    /** Where the time went, per phase ({@link SyncTimings#phases()}). */
    public Map<String, Duration> phases() {
        return timings.phases();
    }
}
