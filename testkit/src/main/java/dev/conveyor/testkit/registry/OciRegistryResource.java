package dev.conveyor.testkit.registry;

import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Quarkus test resource that runs one {@link OciRegistry} per test resource lifecycle, seeds the {@linkplain BaseImages
 * base image} into it and hands out:
 * <ul>
 * <li>{@code conveyor.testkit.registry.host}: {@code 127.0.0.1:<port>}</li>
 * <li>{@code conveyor.testkit.registry.url}: {@code http://127.0.0.1:<port>}</li>
 * <li>{@code conveyor.testkit.registry.base-image}: the seeded reference, {@code 127.0.0.1:<port>/conveyor/base:1}</li>
 * </ul>
 * Fields of type {@link OciRegistry} annotated with {@link InjectOciRegistry} receive the running registry.
 */
public class OciRegistryResource implements QuarkusTestResourceLifecycleManager {

    private OciRegistry registry;

    /** Starts the registry and seeds the base image; the registry is closed again if seeding fails. */
    @Override
    public Map<String, String> start() {
        registry = OciRegistry.start();
        try {
            String baseImage = BaseImages.seed(registry);
            return Map.of("conveyor.testkit.registry.host", registry.host(), "conveyor.testkit.registry.url",
                    registry.url(), "conveyor.testkit.registry.base-image", baseImage);
        } catch (RuntimeException e) {
            stop();
            throw e;
        }
    }

    /** Sets {@link InjectOciRegistry} fields of the test instance. */
    @Override
    public void inject(TestInjector testInjector) {
        testInjector.injectIntoFields(registry,
                new TestInjector.AnnotatedAndMatchesType(InjectOciRegistry.class, OciRegistry.class));
    }

    /** Stops the registry and deletes its storage. */
    @Override
    public void stop() {
        if (registry != null) {
            registry.close();
            registry = null;
        }
    }
}
