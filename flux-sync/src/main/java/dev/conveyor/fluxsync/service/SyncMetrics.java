package dev.conveyor.fluxsync.service;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import dev.conveyor.events.v1.SyncSummary;
import io.micrometer.core.instrument.LongTaskTimer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;

/**
 * The metrics out of a recorded sync: {@code conveyor_sync_duration_seconds{repo}} and
 * {@code conveyor_sync_objects{repo,action}} (the object counts of the repository's last sync); and the syncs running
 * now, {@code conveyor_sync_active_seconds{repo}} (a long task timer: with several replicas, which one is syncing a
 * repository, and a sync that hangs).
 */
final class SyncMetrics {

    private final MeterRegistry metrics;
    private final Map<String, AtomicInteger> gauges = new ConcurrentHashMap<>();

    SyncMetrics(MeterRegistry metrics) {
        this.metrics = metrics;
    }

    void record(RepoSpec repo, SyncSummary summary, int drifted, Duration duration) {
        if (metrics == null) {
            return;
        }
        Timer.builder("conveyor.sync.duration").description("Duration of one sync of a GitOps repository")
                .tag("repo", repo.name()).register(metrics).record(duration);
        gauge(repo, "created").set(summary.created());
        gauge(repo, "updated").set(summary.updated());
        gauge(repo, "unchanged").set(summary.unchanged());
        gauge(repo, "pruned").set(summary.pruned());
        gauge(repo, "drift_corrected").set(drifted);
    }

    /** A sync of the repository starts; stop the returned sample when it ends. */
    LongTaskTimer.Sample started(RepoSpec repo) {
        if (metrics == null) {
            return null;
        }
        return LongTaskTimer.builder("conveyor.sync.active").description(
                "Syncs of a GitOps repository running now on this replica").tag("repo", repo.name()).register(metrics)
                .start();
    }

    private AtomicInteger gauge(RepoSpec repo, String action) {
        return gauges.computeIfAbsent(repo.name() + "/" + action, k -> metrics.gauge("conveyor.sync.objects", List.of(
                Tag.of("repo", repo.name()), Tag.of("action", action)), new AtomicInteger()));
    }
}
