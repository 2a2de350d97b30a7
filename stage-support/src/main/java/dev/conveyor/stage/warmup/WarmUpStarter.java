package dev.conveyor.stage.warmup;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;

import org.apache.kafka.clients.producer.Producer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import dev.conveyor.stage.messaging.StageEdge;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import io.smallrye.reactive.messaging.kafka.KafkaProducer;

/**
 * Runs the service's {@link WarmUp}s once after start-up, on one daemon thread, so the start (and readiness) never
 * waits for them and a real message that arrives first simply runs; then fetches the metadata of the warm-ups' output
 * topics through the producer of {@link StageEdge#CHANNEL} (no record is sent), so the first real send does not wait
 * for it. Turned off with {@value #ENABLED}{@code =false}. A CDI bean of every service (the jar's Jandex index).
 */
@ApplicationScoped
public class WarmUpStarter {

    /** The switch (environment {@code CONVEYOR_WARM_UP_ENABLED}); on by default. */
    public static final String ENABLED = "conveyor.warm-up.enabled";

    private static final Logger LOG = Logger.getLogger(WarmUpStarter.class);

    private final boolean enabled;
    private final String stage;
    private final Instance<WarmUp> warmUps;
    private final Instance<KafkaClientService> kafka;
    private final CompletableFuture<WarmUpResult> result = new CompletableFuture<>();

    @Inject
    public WarmUpStarter(@ConfigProperty(name = ENABLED, defaultValue = "true") boolean enabled,
            @ConfigProperty(name = "quarkus.application.name", defaultValue = "stage") String stage,
            @Any Instance<WarmUp> warmUps, @Any Instance<KafkaClientService> kafka) {
        this.enabled = enabled;
        this.stage = stage.replaceFirst("^conveyor-", "");
        this.warmUps = warmUps;
        this.kafka = kafka;
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
     * Completes once the stage's warm-ups have ended (at once when turned off or when there is none); the output topics'
     * metadata is fetched after that.
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
        if (done.outcome() == WarmUpResult.Outcome.DONE) {
            warmProducer();
        }
    }

    private void warmProducer() {
        try {
            Set<String> topics = new LinkedHashSet<>();
            warmUps.forEach(w -> topics.addAll(w.outputTopics()));
            if (!kafka.isResolvable()) {
                return;
            }
            KafkaProducer<Object, Object> producer = kafka.get().getProducer(StageEdge.CHANNEL);
            if (producer == null) {
                return;
            }
            // partitionsFor on the client itself, from this thread: it waits for metadata (at most the producer's
            // max.block.ms) without sending, and never holds the channel's sending thread.
            Producer<Object, Object> client = producer.unwrap();
            for (String topic : topics) {
                client.partitionsFor(topic);
            }
        } catch (Exception e) {
            LOG.debugf("[%s] warm-up: output topic metadata not fetched, ignored: %s", stage, e.getClass()
                    .getSimpleName());
        }
    }
}
