package dev.conveyor.notifier.service;

import java.util.Locale;

import dev.conveyor.events.v1.EventType;
import dev.conveyor.notifier.domain.Delivery;
import dev.conveyor.stage.StageMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The notifier's metrics besides the common stage ones. Labels are bounded: provider (4), call kind (7), outcome
 * ({@code delivered}, {@code rejected}, {@code gave_up}), retry cause ({@code rate_limited}, {@code server_error},
 * {@code network}).
 */
public final class NotifierMetrics {

    /** Prometheus {@code conveyor_notifier_deliveries_total{provider,kind,outcome}}. */
    public static final String DELIVERIES = "conveyor.notifier.deliveries";
    /** Prometheus {@code conveyor_notifier_retries_total{provider,cause}}. */
    public static final String RETRIES = "conveyor.notifier.retries";
    /** Prometheus {@code conveyor_notifier_backlog{provider}}: calls waiting or in progress. */
    public static final String BACKLOG = "conveyor.notifier.backlog";
    /** Prometheus {@code conveyor_notifier_duplicates_total}: records whose CloudEvents id was handled before. */
    public static final String DUPLICATES = "conveyor.notifier.duplicates";

    private final MeterRegistry registry;
    private final StageMetrics stage;

    public NotifierMetrics(MeterRegistry registry, StageMetrics stage) {
        this.registry = registry;
        this.stage = stage;
    }

    public void consumed(EventType type) {
        stage.consumed(type);
    }

    public void duplicate() {
        Counter.builder(DUPLICATES).register(registry).increment();
    }

    public void delivered(Delivery d) {
        outcome(d, "delivered");
    }

    public void rejected(Delivery d) {
        outcome(d, "rejected");
        stage.failed(NotifierFailure.PROVIDER_REJECTED.name());
    }

    public void gaveUp(Delivery d) {
        outcome(d, "gave_up");
        stage.failed(NotifierFailure.PROVIDER_UNAVAILABLE.name());
    }

    public void failed(NotifierFailure reason) {
        stage.failed(reason.name());
    }

    public void retried(Delivery d, String cause) {
        Counter.builder(RETRIES).tag("provider", d.provider().id()).tag("cause", cause).register(registry)
                .increment();
    }

    private void outcome(Delivery d, String outcome) {
        Counter.builder(DELIVERIES).tag("provider", d.provider().id())
                .tag("kind", d.kind().name().toLowerCase(Locale.ROOT)).tag("outcome", outcome).register(registry)
                .increment();
    }
}
