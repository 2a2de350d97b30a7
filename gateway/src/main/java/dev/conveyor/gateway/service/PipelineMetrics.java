package dev.conveyor.gateway.service;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ReleaseDegraded;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.gateway.domain.RestoreClock;
import dev.conveyor.gateway.domain.RunTimeline;
import dev.conveyor.gateway.domain.Views.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The pipeline's own measures, taken from the read model: run outcomes and lead time per flow, and the DORA keys
 * (deployment frequency, lead time for changes, change failure rate, time to restore).
 *
 * <p>
 * The read model folds the whole log again at every start, so the fold state (run timelines, open degradations) is
 * built from every event, but a measure is recorded only when the event that completes it is <em>live</em>: read
 * beyond where the log ended when the gateway started. A restart therefore never counts history twice; what happened
 * while the gateway was down is counted once it is read. Labels are bounded: {@code flow} (CI, CD) and
 * {@code outcome}; never an app, run id or commit.
 *
 * <p>
 * Every series is registered up front (at zero), so dashboards and alerts find them before the first run.
 */
public final class PipelineMetrics {

    /** Prometheus {@code conveyor_pipeline_lead_time_seconds{flow}} (histogram). */
    public static final String LEAD_TIME = "conveyor.pipeline.lead.time";
    /** Prometheus {@code conveyor_pipeline_runs_total{flow,outcome}}, outcome {@code succeeded} or {@code failed}. */
    public static final String RUNS = "conveyor.pipeline.runs";
    /** Prometheus {@code conveyor_deployments_total{outcome}}, outcome {@code healthy} or {@code degraded}. */
    public static final String DEPLOYMENTS = "conveyor.deployments";
    /** Prometheus {@code conveyor_time_to_restore_seconds} (histogram). */
    public static final String TIME_TO_RESTORE = "conveyor.time.to.restore";

    private static final Duration MIN_EXPECTED = Duration.ofSeconds(1);
    private static final Duration MAX_EXPECTED = Duration.ofDays(7);

    private final MeterRegistry registry;
    private final RestoreClock restores = new RestoreClock();
    private final Timer timeToRestore;
    private final Counter healthy;
    private final Counter degraded;

    public PipelineMetrics(MeterRegistry registry) {
        this.registry = registry;
        for (Flow flow : Flow.values()) {
            leadTime(flow);
            runs(flow, Status.SUCCEEDED);
            runs(flow, Status.FAILED);
        }
        healthy = deployments("healthy");
        degraded = deployments("degraded");
        timeToRestore = Timer.builder(TIME_TO_RESTORE)
                .description("From a release's degradation to its next healthy rollout")
                .publishPercentileHistogram()
                .minimumExpectedValue(MIN_EXPECTED)
                .maximumExpectedValue(MAX_EXPECTED)
                .register(registry);
    }

    /**
     * Observes one event the read model applied (not a duplicate) to a run whose status was {@code before} and is now
     * {@code timeline.status()}.
     */
    void runChanged(RunTimeline timeline, Status before, ConveyorEvent event, boolean live) {
        Status after = timeline.status();
        if (!live || after == before || after == Status.RUNNING || timeline.run().isEmpty()) {
            return;
        }
        Flow flow = timeline.run().get().flow();
        runs(flow, after).increment();
        Instant started = timeline.startedAt();
        if (after == Status.SUCCEEDED && started != null && !event.occurredAt().isBefore(started)) {
            leadTime(flow).record(Duration.between(started, event.occurredAt()));
        }
    }

    /** Observes one event the read model applied (not a duplicate), once per event. */
    void eventApplied(ConveyorEvent event, boolean live) {
        if (event instanceof ReleaseHealthy h) {
            var down = restores.healthy(RestoreClock.release(h.gitopsRepo(), h.namespace(), h.release()),
                    h.occurredAt());
            if (live) {
                healthy.increment();
                down.ifPresent(timeToRestore::record);
            }
        } else if (event instanceof ReleaseDegraded d) {
            restores.degraded(RestoreClock.release(d.gitopsRepo(), d.namespace(), d.release()), d.occurredAt());
            if (live) {
                degraded.increment();
            }
        }
    }

    private Timer leadTime(Flow flow) {
        return Timer.builder(LEAD_TIME)
                .description("From a run's first event (the build hook) to its end: ReleaseHealthy in CD, "
                        + "ManifestsValidated in CI; successful runs only")
                .tag("flow", flow.name())
                .publishPercentileHistogram()
                .minimumExpectedValue(MIN_EXPECTED)
                .maximumExpectedValue(MAX_EXPECTED)
                .register(registry);
    }

    private Counter runs(Flow flow, Status outcome) {
        return Counter.builder(RUNS).description("Runs that ended, by flow and outcome")
                .tag("flow", flow.name()).tag("outcome", outcome.name().toLowerCase(Locale.ROOT)).register(registry);
    }

    private Counter deployments(String outcome) {
        return Counter.builder(DEPLOYMENTS)
                .description("Health verdicts of deployed releases (ReleaseHealthy / ReleaseDegraded)")
                .tag("outcome", outcome).register(registry);
    }
}
