package dev.conveyor.gateway.config;

import java.time.Clock;
import java.time.Duration;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.gateway.messaging.GatewayPublisher;
import dev.conveyor.gateway.service.GatewayException;
import dev.conveyor.gateway.service.GatewayFailure;
import dev.conveyor.gateway.service.HookService;
import dev.conveyor.gateway.service.PipelineMetrics;
import dev.conveyor.gateway.service.ReplayService;
import dev.conveyor.gateway.service.RunReadModel;
import dev.conveyor.stage.StageMetrics;
import io.micrometer.core.instrument.MeterRegistry;

/** Wires the plain gateway classes from configuration. */
@ApplicationScoped
public class GatewayBeans {

    @Produces
    @ApplicationScoped
    RunReadModel readModel(MeterRegistry registry) {
        return new RunReadModel(new PipelineMetrics(registry));
    }

    @Produces
    @ApplicationScoped
    StageMetrics metrics(MeterRegistry registry) {
        return new StageMetrics(registry, Stage.GATEWAY);
    }

    @Produces
    @ApplicationScoped
    HookService hookService(GatewayConfig config, RunReadModel readModel, GatewayPublisher publisher,
            dev.conveyor.stage.net.OutboundPolicy outbound) {
        return new HookService(readModel, publish(publisher, config.hook().publishTimeout()), Clock.systemUTC(),
                new dev.conveyor.gateway.domain.HookUrls(outbound));
    }

    @Produces
    @ApplicationScoped
    ReplayService replayService(GatewayConfig config, RunReadModel readModel, GatewayPublisher publisher) {
        return new ReplayService(readModel, publish(publisher, config.hook().publishTimeout()), Clock.systemUTC());
    }

    private static java.util.function.Consumer<List<ConveyorEvent>> publish(GatewayPublisher publisher,
            Duration timeout) {
        return events -> {
            try {
                publisher.publish(events, timeout);
            } catch (GatewayPublisher.PublishException e) {
                throw new GatewayException(GatewayFailure.PUBLISH_FAILED, e.getMessage());
            }
        };
    }
}
