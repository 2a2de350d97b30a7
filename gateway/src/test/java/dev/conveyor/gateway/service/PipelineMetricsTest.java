package dev.conveyor.gateway.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.conveyor.events.v1.CloudEventAttributes;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.ReleaseDegraded;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.gateway.domain.RecordedEvent;
import dev.conveyor.gateway.support.RunEvents;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;

class PipelineMetricsTest {

    static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");

    PrometheusMeterRegistry registry;
    RunReadModel model;

    @BeforeEach
    void setUp() {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        model = new RunReadModel(new PipelineMetrics(registry));
    }

    static RecordedEvent recorded(ConveyorEvent event) {
        return new RecordedEvent(CloudEventAttributes.idOf(event), RunEvents.sourceOf(event), event);
    }

    void live(ConveyorEvent event) {
        model.apply(recorded(event), true);
    }

    void history(ConveyorEvent event) {
        model.apply(recorded(event), false);
    }

    double runs(String flow, String outcome) {
        return registry.get(PipelineMetrics.RUNS).tag("flow", flow).tag("outcome", outcome).counter().count();
    }

    double deployments(String outcome) {
        return registry.get(PipelineMetrics.DEPLOYMENTS).tag("outcome", outcome).counter().count();
    }

    io.micrometer.core.instrument.Timer leadTime(String flow) {
        return registry.get(PipelineMetrics.LEAD_TIME).tag("flow", flow).timer();
    }

    io.micrometer.core.instrument.Timer timeToRestore() {
        return registry.get(PipelineMetrics.TIME_TO_RESTORE).timer();
    }

    @Test
    void everySeriesIsExposedAtZeroBeforeTheFirstRunWithHistogramBuckets() {
        String exposition = registry.scrape();

        assertThat(exposition)
                .contains("conveyor_pipeline_runs_total{flow=\"CD\",outcome=\"succeeded\",} 0.0")
                .contains("conveyor_pipeline_runs_total{flow=\"CI\",outcome=\"failed\",} 0.0")
                .contains("conveyor_deployments_total{outcome=\"healthy\",} 0.0")
                .contains("conveyor_deployments_total{outcome=\"degraded\",} 0.0")
                .contains("conveyor_pipeline_lead_time_seconds_bucket{flow=\"CD\",le=\"+Inf\",} 0.0")
                .contains("conveyor_pipeline_lead_time_seconds_count{flow=\"CI\",} 0.0")
                .contains("conveyor_time_to_restore_seconds_bucket{le=\"+Inf\",} 0.0")
                .contains("conveyor_time_to_restore_seconds_sum 0.0");
        // Buckets reach beyond Micrometer's default 30 s ceiling: lead times are minutes to days.
        assertThat(java.util.regex.Pattern
                .compile("conveyor_pipeline_lead_time_seconds_bucket\\{flow=\"CD\",le=\"([0-9.]+)\"")
                .matcher(exposition).results().map(m -> Double.parseDouble(m.group(1))))
                .anySatisfy(le -> assertThat(le).isGreaterThanOrEqualTo(Duration.ofDays(1).toSeconds()));
    }

    @Test
    void aLiveCdRunCountsItsOutcomeLeadTimeAndDeployment() {
        RunEvents run = RunEvents.cd("shop", 1, T0);
        run.all().forEach(this::live);

        assertThat(runs("CD", "succeeded")).isEqualTo(1.0);
        assertThat(runs("CD", "failed")).isZero();
        assertThat(leadTime("CD").count()).isEqualTo(1);
        assertThat(leadTime("CD").totalTime(TimeUnit.SECONDS)).isEqualTo(30.0); // BuildSucceeded → ReleaseHealthy
        assertThat(deployments("healthy")).isEqualTo(1.0);
        assertThat(timeToRestore().count()).isZero();

        // The same events again (a redelivery) change nothing.
        run.all().forEach(this::live);
        assertThat(runs("CD", "succeeded")).isEqualTo(1.0);
        assertThat(deployments("healthy")).isEqualTo(1.0);
        assertThat(registry.scrape()).contains("conveyor_pipeline_runs_total{flow=\"CD\",outcome=\"succeeded\",} 1.0");
    }

    @Test
    void aCiRunEndsWithItsValidatedManifests() {
        RunEvents run = RunEvents.ci("shop", 2, T0);
        run.all().forEach(this::live);

        assertThat(runs("CI", "succeeded")).isEqualTo(1.0);
        assertThat(leadTime("CI").totalTime(TimeUnit.SECONDS)).isEqualTo(9.0);
        assertThat(leadTime("CD").count()).isZero();
        assertThat(deployments("healthy")).isZero();
    }

    @Test
    void aFailedRunCountsOnceAndItsSuccessfulReplayCountsAgainWithTheLeadTimeFromTheFirstBuild() {
        RunEvents run = RunEvents.cd("shop", 3, T0);
        live(run.build());
        live(run.version());
        live(run.failed(Stage.IMAGE_BUILDER, 4));
        live(run.failed(Stage.IMAGE_BUILDER, 4)); // duplicate

        assertThat(runs("CD", "failed")).isEqualTo(1.0);
        assertThat(leadTime("CD").count()).isZero();

        RunEvents replay = run.again(2, T0.plusSeconds(100));
        replay.all().subList(1, 8).forEach(this::live);

        assertThat(runs("CD", "succeeded")).isEqualTo(1.0);
        assertThat(runs("CD", "failed")).isEqualTo(1.0);
        assertThat(leadTime("CD").totalTime(TimeUnit.SECONDS)).isEqualTo(130.0);
    }

    @Test
    void historyReadAgainAfterARestartIsNotCountedButCompletesLiveMeasures() {
        RunEvents done = RunEvents.cd("shop", 4, T0);
        done.all().forEach(this::history);
        RunEvents halfway = RunEvents.cd("cart", 5, T0);
        halfway.all().subList(0, 7).forEach(this::history);
        ReleaseDegraded broken = degraded(halfway, "cart", T0.plusSeconds(25));
        history(broken);

        assertThat(runs("CD", "succeeded")).isZero();
        assertThat(runs("CD", "failed")).isZero();
        assertThat(deployments("degraded")).isZero();
        assertThat(leadTime("CD").count()).isZero();

        // Live: the run that was half way finishes, with a lead time from its (historical) build.
        RunEvents fixed = halfway.again(2, T0.plusSeconds(60));
        fixed.all().subList(1, 8).forEach(this::live);

        assertThat(runs("CD", "succeeded")).isEqualTo(1.0);
        assertThat(deployments("healthy")).isEqualTo(1.0);
        assertThat(leadTime("CD").totalTime(TimeUnit.SECONDS)).isEqualTo(90.0);
        // Restored: degraded at +25 s, healthy again at +90 s.
        assertThat(timeToRestore().count()).isEqualTo(1);
        assertThat(timeToRestore().totalTime(TimeUnit.SECONDS)).isEqualTo(65.0);
    }

    @Test
    void timeToRestoreRunsFromTheFirstDegradationToTheNextHealthyVerdictOfTheSameRelease() {
        RunEvents a = RunEvents.cd("shop", 6, T0);
        RunEvents b = RunEvents.cd("shop", 7, T0.plusSeconds(12));
        live(degraded(a, "prod", T0.plusSeconds(10)));
        live(degraded(b, "prod", T0.plusSeconds(20))); // the next run degrades it too: still the same outage
        live(degraded(a, "prod", T0.plusSeconds(30))); // the same run's degradation reported again (same id): once
        live(degraded(a, "staging", T0.plusSeconds(15))); // another release: restored separately
        live(healthy(a, "prod", T0.plusSeconds(70)));

        assertThat(deployments("degraded")).isEqualTo(3.0);
        assertThat(deployments("healthy")).isEqualTo(1.0);
        assertThat(timeToRestore().count()).isEqualTo(1);
        assertThat(timeToRestore().totalTime(TimeUnit.SECONDS)).isEqualTo(60.0);

        live(healthy(a, "prod", T0.plusSeconds(80))); // healthy again: nothing to restore
        assertThat(timeToRestore().count()).isEqualTo(1);
        assertThat(timeToRestore().max(TimeUnit.SECONDS)).isEqualTo(Duration.ofMinutes(1).toSeconds());
    }

    static String revision(char c, Instant at) {
        return String.valueOf(c).repeat(30) + String.format("%010d", at.getEpochSecond());
    }

    static ReleaseDegraded degraded(RunEvents run, String release, Instant at) {
        return new ReleaseDegraded(run.run(), at, null, "https://git.example.com/org/flux-prod.git", revision('d', at),
                "apps", release, "RolloutTimeout", "not ready in 5m");
    }

    static ReleaseHealthy healthy(RunEvents run, String release, Instant at) {
        return new ReleaseHealthy(run.run(), at, null, "https://git.example.com/org/flux-prod.git", revision('e', at),
                "apps", release, java.util.List.of("Deployment/" + release));
    }
}
