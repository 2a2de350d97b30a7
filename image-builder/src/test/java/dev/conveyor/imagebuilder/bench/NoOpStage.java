package dev.conveyor.imagebuilder.bench;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.stage.messaging.StageEdge;
import io.quarkus.arc.properties.IfBuildProperty;
import io.smallrye.reactive.messaging.annotations.Blocking;

/**
 * A stage with trivial work for {@link StageOverheadBench}: the image builder's own edge (SmallRye Kafka connector, the
 * events' serialisation, {@link StageEdge} with the service's {@code StageRunner}, the one outgoing channel, input
 * acknowledged once the output is) around a handler that only makes its output event. Present only when the build
 * property {@code conveyor.bench.stage-overhead} is {@code true} (the bench's test profile), so no other test sees it.
 */
@ApplicationScoped
@IfBuildProperty(name = "conveyor.bench.stage-overhead", stringValue = "true")
public class NoOpStage {

    /** The bench's input channel and topic. */
    public static final String CHANNEL = "bench.stage-overhead.in";
    static final String DIGEST = "sha256:" + "ab".repeat(32);

    /** When the handler ran, by run id ({@link System#nanoTime()}; the bench runs in the same JVM). */
    static final Map<String, Long> HANDLED = new ConcurrentHashMap<>();

    @Inject
    StageEdge edge;

    @Incoming(CHANNEL)
    @Blocking(ordered = true)
    public CompletionStage<Void> consume(Message<VersionResolved> message) {
        return edge.handle(message, (version, delivery) -> {
            HANDLED.put(version.run().runId(), System.nanoTime());
            return List.of(new ImagePushed(version.run(), Instant.now(), delivery.causationId(), version.version(),
                    "registry.example/bench", List.of(version.version()), DIGEST, 1));
        });
    }
}
