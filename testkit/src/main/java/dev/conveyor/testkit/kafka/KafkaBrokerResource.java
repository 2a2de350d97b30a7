package dev.conveyor.testkit.kafka;

import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.kafka.InjectKafkaCompanion;
import io.smallrye.reactive.messaging.kafka.companion.KafkaCompanion;

/**
 * Starts a real in-process Kafka broker for a {@code @QuarkusTest} and points the application's Kafka clients at it.
 *
 * <p>
 * Use with {@code @QuarkusTestResource(KafkaBrokerResource.class)} (or {@code @WithTestResource}). Fields annotated
 * {@link InjectKafkaCompanion} receive a {@link KafkaCompanion} bound to the broker, and fields annotated
 * {@link InjectKafkaBroker} the broker itself. Quarkus Dev Services and {@code KafkaCompanionResource} need a Docker
 * engine; this resource does not.
 */
public class KafkaBrokerResource implements QuarkusTestResourceLifecycleManager {

    private KafkaBroker broker;
    private KafkaCompanion companion;

    @Override
    public Map<String, String> start() {
        broker = KafkaBroker.start();
        companion = broker.companion();
        return Map.of(
                "kafka.bootstrap.servers", broker.bootstrapServers(),
                "mp.messaging.connector.smallrye-kafka.bootstrap.servers", broker.bootstrapServers());
    }

    @Override
    public void inject(TestInjector testInjector) {
        testInjector.injectIntoFields(companion,
                new TestInjector.AnnotatedAndMatchesType(InjectKafkaCompanion.class, KafkaCompanion.class));
        testInjector.injectIntoFields(broker,
                new TestInjector.AnnotatedAndMatchesType(InjectKafkaBroker.class, KafkaBroker.class));
    }

    @Override
    public void stop() {
        if (companion != null) {
            companion.close();
        }
        if (broker != null) {
            broker.close();
        }
    }
}
