package dev.conveyor.gateway.messaging;

import java.util.Map;
import java.util.concurrent.CompletableFuture;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import dev.conveyor.gateway.config.GatewayConfig;
import dev.conveyor.gateway.service.RunReadModel;
import dev.conveyor.stage.StageMetrics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;

/**
 * Runs the {@link RunHistoryFeed} while the gateway runs, and reports ready once the log (and the run history topic)
 * has been read up to where it ended at start (before that, lists would be incomplete and a redelivered hook might
 * not be recognised).
 */
@ApplicationScoped
@Readiness
public class ReadModelFeed implements HealthCheck {

    /**
     * Prometheus {@code conveyor_gateway_log_records_read}: records the read model read since this start (events and
     * run snapshots). After a restart it counts only what was new, not the whole log.
     */
    public static final String RECORDS_READ = "conveyor.gateway.log.records.read";

    /** Prometheus {@code conveyor_gateway_history_pending_snapshots}: changed runs whose snapshot is not written yet. */
    public static final String PENDING_SNAPSHOTS = "conveyor.gateway.history.pending.snapshots";

    @Inject
    RunReadModel readModel;

    @Inject
    GatewayConfig config;

    @Inject
    StageMetrics metrics;

    @Inject
    MeterRegistry registry;

    @ConfigProperty(name = "kafka.bootstrap.servers", defaultValue = "localhost:9092")
    String bootstrapServers;

    private RunHistoryFeed feed;

    void start(@Observes StartupEvent startup) {
        GatewayConfig.History h = config.history();
        // Off the start path: creating the topic waits for the broker (up to 30 s when it is down), and nothing before
        // the first snapshot write needs it (RunHistoryTopic.ensureInBackground).
        CompletableFuture<Void> historyTopic = h.createTopic()
                ? RunHistoryTopic.ensureInBackground(bootstrapServers, Map.of(), h.topic(), h.topicPartitions())
                : CompletableFuture.completedFuture(null);
        feed = new RunHistoryFeed(readModel, new RunHistoryFeed.Settings(bootstrapServers, Map.of(),
                config.readModel().pollTimeout(), config.readModel().topicRefresh(), h.topic(), h.publishBatch(),
                h.publishInterval(), config.hook().publishTimeout()), recorded -> metrics.consumed(recorded.type()),
                historyTopic::isDone).start();
        Gauge.builder(RECORDS_READ, feed.reader(), EventLogReader::recordsRead)
                .description("Records the run read model read since this start (events and run snapshots)")
                .register(registry);
        Gauge.builder(PENDING_SNAPSHOTS, readModel, RunReadModel::pendingSnapshotCount)
                .description("Changed runs whose snapshot is not yet written to the run history topic")
                .register(registry);
    }

    void stop(@Observes ShutdownEvent shutdown) {
        if (feed != null) {
            feed.close();
        }
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("run-read-model").status(readModel.caughtUp()).build();
    }
}
