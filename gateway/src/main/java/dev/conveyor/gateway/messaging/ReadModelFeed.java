package dev.conveyor.gateway.messaging;

import java.util.Map;

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
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;

/**
 * Feeds the read model from the event log while the gateway runs, and reports ready once the log has been read up to
 * where it ended at start (before that, lists would be incomplete and a redelivered hook might not be recognised).
 */
@ApplicationScoped
@Readiness
public class ReadModelFeed implements HealthCheck {

    @Inject
    RunReadModel readModel;

    @Inject
    GatewayConfig config;

    @Inject
    StageMetrics metrics;

    @ConfigProperty(name = "kafka.bootstrap.servers", defaultValue = "localhost:9092")
    String bootstrapServers;

    private EventLogReader reader;

    void start(@Observes StartupEvent startup) {
        reader = new EventLogReader(bootstrapServers, Map.of(), config.readModel().pollTimeout(),
                config.readModel().topicRefresh(), (recorded, live) -> {
                    metrics.consumed(recorded.type());
                    readModel.apply(recorded, live);
                }, readModel::markCaughtUp).start();
    }

    void stop(@Observes ShutdownEvent shutdown) {
        if (reader != null) {
            reader.close();
        }
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("run-read-model").status(readModel.caughtUp()).build();
    }
}
