package dev.conveyor.notifier.messaging;

import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;

import dev.conveyor.notifier.config.NotifierConfig;
import dev.conveyor.notifier.service.NotifierService;
import dev.conveyor.notifier.service.StateStore;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;

/**
 * Starts the event consumer with the service and stops it before the service; its health is the service's: down when
 * the consumer loop stopped on an error (the pod is restarted, the records are read again), and not ready until the
 * state topic is prepared ({@link Ready}).
 */
@ApplicationScoped
@Liveness
public class EventConsumerLifecycle implements HealthCheck {

    @Inject
    NotifierService notifier;

    @Inject
    NotifierConfig config;

    @ConfigProperty(name = "kafka.bootstrap.servers", defaultValue = "localhost:9092")
    String bootstrapServers;

    /** Every {@code kafka.*} property (security, TLS, SASL, timeouts), as the SmallRye channels of the services get. */
    @Inject
    @Identifier("default-kafka-broker")
    Map<String, Object> kafka;

    /** The process's Kafka client-id prefix, shared with the SmallRye connector: tells replicas apart in a group. */
    @ConfigProperty(name = "mp.messaging.connector.smallrye-kafka.client-id-prefix")
    Optional<String> clientIdPrefix;

    private volatile EventConsumer consumer;

    void start(@Observes StartupEvent event) {
        consumer = EventConsumer.start(notifier,
                new EventConsumer.Settings(bootstrapServers, config.state().groupId(), config.state().topic(),
                        config.stateRetention(), config.state().restoreTimeout(),
                        Optional.of(config.dataDir().resolve(StateStore.FILE)), clients()),
                Clock.systemUTC());
    }

    /** The Kafka client settings: {@code kafka.*}, less what the consumer sets itself, and the client-id prefix. */
    private Map<String, Object> clients() {
        Map<String, Object> clients = new HashMap<>(kafka);
        clients.remove("bootstrap.servers");
        clients.remove("client.id");
        clients.remove("group.id");
        clientIdPrefix.filter(p -> !p.isBlank()).ifPresent(p -> clients.put(EventConsumer.CLIENT_ID_PREFIX, p));
        return clients;
    }

    void stop(@Observes ShutdownEvent event) {
        if (consumer != null) {
            consumer.close();
        }
    }

    @Override
    public HealthCheckResponse call() {
        return health(false);
    }

    // not private: called through the client proxy by Ready
    HealthCheckResponse health(boolean readiness) {
        EventConsumer c = consumer;
        boolean up = c != null && (readiness ? c.ready() : c.alive());
        return HealthCheckResponse.named("notifier-events")
                .status(up)
                .withData("error", c == null ? "not started" : c.failure().map(Throwable::getMessage).orElse("none"))
                .withData("state-topic", c != null && c.prepared() ? "prepared" : "not prepared")
                .build();
    }

    /**
     * Ready once the state topic is prepared (created or grown, an old journal read into it) and while the loop runs:
     * preparing waits for the broker, off the start path, so a notifier that cannot reach its state is not ready.
     */
    @ApplicationScoped
    @Readiness
    static class Ready implements HealthCheck {

        @Inject
        @Liveness // its qualifier as a health check
        EventConsumerLifecycle lifecycle;

        @Override
        public HealthCheckResponse call() {
            return lifecycle.health(true);
        }
    }
}
