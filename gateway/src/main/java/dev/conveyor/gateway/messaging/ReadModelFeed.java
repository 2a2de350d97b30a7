package dev.conveyor.gateway.messaging;

import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.jboss.logging.Logger;

import dev.conveyor.gateway.config.GatewayConfig;
import dev.conveyor.gateway.domain.RecordedEvent;
import dev.conveyor.gateway.domain.RunSnapshot;
import dev.conveyor.gateway.service.RunReadModel;
import dev.conveyor.stage.StageMetrics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;

/**
 * Feeds the read model from the event log and the run history topic while the gateway runs, stores where each poll
 * ended with what it folded, writes changed runs' snapshots to the history topic, and reports ready once the log has
 * been read up to where it ended at start (before that, lists would be incomplete and a redelivered hook might not be
 * recognised).
 */
@ApplicationScoped
@Readiness
public class ReadModelFeed implements HealthCheck {

    private static final Logger LOG = Logger.getLogger(ReadModelFeed.class);

    /** Prometheus {@code conveyor_gateway_log_records_read}: records the read model read since this start. */
    public static final String RECORDS_READ = "conveyor.gateway.log.records.read";

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

    private EventLogReader reader;
    private RunHistoryTopic history;
    private long nextPublish;

    void start(@Observes StartupEvent startup) {
        GatewayConfig.History h = config.history();
        if (h.createTopic()) {
            RunHistoryTopic.ensure(bootstrapServers, Map.of(), h.topic(), h.topicPartitions());
        }
        history = new RunHistoryTopic(bootstrapServers, Map.of(), h.topic(), config.hook().publishTimeout());
        Map<TopicPartition, Long> resume = readModel.positions();
        LOG.infof("run history: resuming %d partitions from the store, reading the others from the beginning",
                resume.size());
        reader = new EventLogReader(bootstrapServers, Map.of(), config.readModel().pollTimeout(),
                config.readModel().topicRefresh(), new EventLogReader.Sink() {
                    @Override
                    public void accept(RecordedEvent recorded, boolean live) {
                        metrics.consumed(recorded.type());
                        readModel.apply(recorded, live);
                    }

                    @Override
                    public void snapshot(String runId, byte[] snapshot) {
                        try {
                            readModel.merge(runId, RunSnapshot.events(snapshot));
                        } catch (RuntimeException e) {
                            LOG.warnf("run %s: skipping an unreadable snapshot: %s", runId, e.getMessage());
                        }
                    }

                    @Override
                    public void polled(Map<TopicPartition, Long> positions) {
                        readModel.commit(positions);
                        publishSnapshots();
                    }
                }, readModel::markCaughtUp, h.topic(), resume).start();
        Gauge.builder(RECORDS_READ, reader, EventLogReader::recordsRead)
                .description("Records the run read model read since this start (events and run snapshots)")
                .register(registry);
    }

    /** Writes a batch of changed runs' snapshots when due; on failure they stay pending and are tried again. */
    private void publishSnapshots() {
        long now = System.nanoTime();
        if (now < nextPublish) {
            return;
        }
        int batch = config.history().publishBatch();
        try {
            int written = readModel.publishSnapshots(batch, history::publish);
            if (written < batch) {
                nextPublish = now + config.history().publishInterval().toNanos();
            }
        } catch (RuntimeException e) {
            LOG.warnf("run snapshots not written to %s, trying again later: %s", config.history().topic(),
                    e.getMessage());
            nextPublish = now + config.history().publishInterval().toNanos();
        }
    }

    void stop(@Observes ShutdownEvent shutdown) {
        if (reader != null) {
            reader.close();
        }
        if (history != null) {
            history.close();
        }
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("run-read-model").status(readModel.caughtUp()).build();
    }
}
