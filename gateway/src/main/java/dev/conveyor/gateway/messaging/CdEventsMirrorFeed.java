package dev.conveyor.gateway.messaging;

import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import dev.conveyor.events.cdevents.CdEvent;
import dev.conveyor.events.cdevents.CdEventsMirror;
import dev.conveyor.gateway.config.CdEventsConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;

/**
 * Runs the CDEvents mirror in the gateway when {@code conveyor.cdevents.enabled}: the gateway already follows every
 * topic, so it is where the mirror's own consumer group lives. Counts what it mirrors
 * ({@code conveyor_cdevents_mirrored_total{type}}) and what the HTTP sink refused
 * ({@code conveyor_cdevents_sink_failures_total{type}}).
 */
@ApplicationScoped
public class CdEventsMirrorFeed {

    private static final Logger LOG = Logger.getLogger(CdEventsMirrorFeed.class);

    @Inject
    CdEventsConfig config;

    @Inject
    MeterRegistry registry;

    @ConfigProperty(name = "kafka.bootstrap.servers", defaultValue = "localhost:9092")
    String bootstrapServers;

    private CdEventsMirror mirror;

    void start(@Observes StartupEvent startup) {
        if (!config.enabled()) {
            return;
        }
        CdEventsMirror.Settings settings = new CdEventsMirror.Settings(bootstrapServers, Map.of(), config.topic(),
                config.groupId(), config.sink().url(), config.sink().timeout(), config.sink().attempts(),
                config.pollTimeout(), config.topicRefresh());
        mirror = new CdEventsMirror(settings, new CdEventsMirror.Listener() {
            @Override
            public void mirrored(CdEvent event) {
                registry.counter("conveyor.cdevents.mirrored", "type", event.type()).increment();
            }

            @Override
            public void sinkFailed(CdEvent event, String reason) {
                registry.counter("conveyor.cdevents.sink.failures", "type", event.type()).increment();
                LOG.warnf("CDEvents sink did not take %s %s (%s)", event.type(), event.id(), reason);
            }

            @Override
            public void skipped(String topic, String reason) {
                LOG.warnf("CDEvents mirror skipped a record of %s: %s", topic, reason);
            }
        }).start();
        LOG.infof("CDEvents mirror on: every Conveyor topic to %s%s", config.topic(),
                config.sink().url().isPresent() ? " and the HTTP sink" : "");
    }

    void stop(@Observes ShutdownEvent shutdown) {
        if (mirror != null) {
            mirror.close();
        }
    }
}
