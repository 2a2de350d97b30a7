package dev.conveyor.stage;

import java.time.Duration;

import dev.conveyor.events.v1.EventType;
import dev.conveyor.events.v1.Stage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The metrics every stage records, named as DESIGN.md fixes them. Labels carry only bounded values (stage, outcome,
 * event type, reason code), never run ids or commits.
 */
public final class StageMetrics {

    /** Prometheus {@code conveyor_stage_duration_seconds{stage,outcome}}. */
    public static final String STAGE_DURATION = "conveyor.stage.duration";
    /** Prometheus {@code conveyor_events_consumed_total{stage,type}}. */
    public static final String EVENTS_CONSUMED = "conveyor.events.consumed";
    /** Prometheus {@code conveyor_events_emitted_total{stage,type}}. */
    public static final String EVENTS_EMITTED = "conveyor.events.emitted";
    /** Prometheus {@code conveyor_stage_failures_total{stage,reason}}. */
    public static final String STAGE_FAILURES = "conveyor.stage.failures";

    private final MeterRegistry registry;
    private final Stage stage;

    public StageMetrics(MeterRegistry registry, Stage stage) {
        this.registry = registry;
        this.stage = stage;
    }

    public void consumed(EventType type) {
        counter(EVENTS_CONSUMED, "type", type.eventName()).increment();
    }

    public void emitted(EventType type) {
        counter(EVENTS_EMITTED, "type", type.eventName()).increment();
    }

    public void failed(String reason) {
        counter(STAGE_FAILURES, "reason", reason).increment();
    }

    /** Records one handling of an event; outcome is {@code success}, {@code failure} or {@code retryable_failure}. */
    public void handled(Duration duration, String outcome) {
        Timer.builder(STAGE_DURATION)
                .description("Time a stage spent on one event, retries included")
                .tag("stage", stage.id())
                .tag("outcome", outcome)
                .publishPercentileHistogram()
                // Image builds and pushes take minutes: buckets up to 10 min keep their p95 visible.
                .maximumExpectedValue(Duration.ofMinutes(10))
                .register(registry)
                .record(duration);
    }

    private Counter counter(String name, String key, String value) {
        return Counter.builder(name).tag("stage", stage.id()).tag(key, value).register(registry);
    }
}
