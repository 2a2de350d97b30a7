package dev.conveyor.gateway.config;

import java.time.Clock;
import java.time.Duration;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Named;

import org.jboss.logging.Logger;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.gateway.client.RunStore;
import dev.conveyor.gateway.domain.AccessTokens;
import dev.conveyor.gateway.domain.RateLimiter;
import dev.conveyor.gateway.messaging.GatewayPublisher;
import dev.conveyor.gateway.service.GatewayException;
import dev.conveyor.gateway.service.GatewayFailure;
import dev.conveyor.gateway.service.HookService;
import dev.conveyor.gateway.service.PipelineMetrics;
import dev.conveyor.gateway.service.ReplayService;
import dev.conveyor.gateway.service.RunReadModel;
import dev.conveyor.gateway.service.StreamTickets;
import dev.conveyor.stage.StageMetrics;
import io.micrometer.core.instrument.MeterRegistry;

/** Wires the plain gateway classes from configuration. */
@ApplicationScoped
public class GatewayBeans {

    private static final Logger LOG = Logger.getLogger(GatewayBeans.class);

    @Produces
    @ApplicationScoped
    RunReadModel readModel(MeterRegistry registry, GatewayConfig config) {
        return new RunReadModel(store(config.history()), new PipelineMetrics(registry), config.history().cacheRuns());
    }

    void closeReadModel(@Disposes RunReadModel readModel) {
        readModel.close();
    }

    /** The replica's own store, or one in memory when none is configured or it cannot be opened. */
    private static RunStore store(GatewayConfig.History history) {
        if (history.dir().isEmpty()) {
            LOG.warn("conveyor.gateway.history.dir is not set: run history is kept in memory, and every start reads "
                    + "the run history topic and the retained event log again");
            return RunStore.inMemory();
        }
        try {
            return RunStore.open(history.dir().get());
        } catch (RuntimeException e) {
            LOG.errorf("cannot open the run history store in %s (%s; another process may hold it): keeping run "
                    + "history in memory; this start reads the run history topic and the retained event log again",
                    history.dir().get(), e.getMessage());
            return RunStore.inMemory();
        }
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
        Duration timeout = config.hook().publishTimeout();
        return new ReplayService(readModel, (events, audit) -> {
            try {
                publisher.publish(events, timeout, audit);
            } catch (GatewayPublisher.PublishException e) {
                throw new GatewayException(GatewayFailure.PUBLISH_FAILED, e.getMessage());
            }
        }, Clock.systemUTC());
    }

    @Produces
    @ApplicationScoped
    AccessTokens accessTokens(GatewayConfig config) {
        AccessTokens tokens = AccessTokens.of(config.auth().tokens().orElse(List.of()));
        return config.api().token().filter(t -> !t.isBlank())
                .map(t -> tokens.with("api", AccessTokens.Role.OPERATOR, t)).orElse(tokens);
    }

    @Produces
    @ApplicationScoped
    StreamTickets streamTickets(GatewayConfig config) {
        return new StreamTickets(config.auth().ticketTtl(), Clock.systemUTC());
    }

    @Produces
    @ApplicationScoped
    @Named("hooks")
    RateLimiter hookLimiter(GatewayConfig config) {
        return new RateLimiter(config.hook().rateLimit().requests(), config.hook().rateLimit().period(),
                System::nanoTime);
    }

    @Produces
    @ApplicationScoped
    @Named("replays")
    RateLimiter replayLimiter(GatewayConfig config) {
        return new RateLimiter(config.api().replayRateLimit().requests(), config.api().replayRateLimit().period(),
                System::nanoTime);
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
