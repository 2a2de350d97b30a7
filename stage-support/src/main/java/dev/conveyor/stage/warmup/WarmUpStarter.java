package dev.conveyor.stage.warmup;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.quarkus.runtime.StartupEvent;

/**
 * Runs the service's {@link WarmUp}s once after start-up, on one daemon thread, so the start (and readiness) never
 * waits for them and a real message that arrives first simply runs. It does not touch Kafka: asking for an output
 * topic's metadata before the topic exists makes a broker with {@code auto.create.topics.enable} create it with its
 * default partition count (seen in {@code ChaosReplicasIT}). Off unless {@value #ENABLED}{@code =true}. A CDI bean of every service (the jar's Jandex index).
 */
@ApplicationScoped
public class WarmUpStarter {

    /** The switch (environment {@code CONVEYOR_WARM_UP_ENABLED}); off by default (stage-support README, "Warm-up"). */
    public static final String ENABLED = "conveyor.warm-up.enabled";

    private static final Logger LOG = Logger.getLogger(WarmUpStarter.class);

    private final boolean enabled;
    private final String stage;
    private final Instance<WarmUp> warmUps;
    private final CompletableFuture<WarmUpResult> result = new CompletableFuture<>();

    @Inject
    public WarmUpStarter(@ConfigProperty(name = ENABLED, defaultValue = "false") boolean enabled,
            @ConfigProperty(name = "quarkus.application.name", defaultValue = "stage") String stage,
            @Any Instance<WarmUp> warmUps) {
        this.enabled = enabled;
        this.stage = stage.replaceFirst("^conveyor-", "");
        this.warmUps = warmUps;
    }

    // After the other start-up observers (SmallRye's channel wiring among them): the runtime configuration and the
    // beans a warm-up uses exist by then; @Initialized(ApplicationScoped) comes before the runtime configuration.
    void onStart(@Observes @Priority(Interceptor.Priority.LIBRARY_AFTER + 1000) StartupEvent started) {
        if (!enabled || warmUps.isUnsatisfied()) {
            LOG.debugf("[%s] no warm-up (%s)", stage, enabled ? "none in this service" : ENABLED + "=false");
            result.complete(WarmUpResult.skipped());
            return;
        }
        Thread thread = new Thread(this::warmUp, "conveyor-warm-up");
        thread.setDaemon(true);
        thread.setPriority(Thread.MIN_PRIORITY);
        thread.start();
    }

    /**
     * Completes once the stage's warm-ups have ended (at once when turned off or when there is none).
     */
    public CompletionStage<WarmUpResult> result() {
        return result;
    }

    private void warmUp() {
        WarmUpResult done = WarmUpResult.skipped();
        try {
            done = new WarmUps(Path.of(System.getProperty("java.io.tmpdir"))).run(stage, warmUps.stream().toList());
        } finally {
            result.complete(done);
        }
    }
}
