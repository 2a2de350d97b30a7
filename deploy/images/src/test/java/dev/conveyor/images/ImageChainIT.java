package dev.conveyor.images;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.conveyor.testkit.TempDirs;
import dev.conveyor.testkit.kafka.KafkaBroker;
import dev.conveyor.testkit.registry.OciRegistry;

/**
 * The whole chain for one service (versioner), on a real registry and broker: base image from the host's JDK 25,
 * service image from versioner's {@code target/quarkus-app}, training under chroot on start-up, the cache layer, then
 * the final image pulled into a fresh root and started with the chart's {@code -XX:AOTCache}: the JVM maps the cache
 * and the service becomes ready.
 */
class ImageChainIT {

    private static KafkaBroker broker;
    private static OciRegistry registry;
    private static Path work;

    @BeforeAll
    static void start() {
        // Fails, never skips: CI runs as root with a JDK 25, so a missing part is a broken machine, not a choice.
        Jdk25.missing().ifPresent(m -> fail("ImageChainIT needs " + m + "see deploy/images/README.md"));
        broker = KafkaBroker.start();
        registry = OciRegistry.start();
        work = TempDirs.create("images-test");
    }

    @AfterAll
    static void stop() {
        if (registry != null) {
            registry.close();
        }
        if (broker != null) {
            broker.close();
        }
        if (work != null) {
            TempDirs.deleteQuietly(work);
        }
    }

    @Test
    void versionerImageRunsWithItsTrainedCache() throws Exception {
        Path project = Path.of(System.getProperty("conveyor.project.dir", "../..")).toAbsolutePath().normalize();
        Path app = project.resolve("versioner/target/quarkus-app");
        Path jdk = Jdk25.find().orElseThrow();
        String host = registry.host();

        ImageChain.Pushed base = ImageChain.pushBase(host, jdk, List.of(), Files.createDirectories(work.resolve("b1")));
        ImageChain.Pushed image = ImageChain.pushService(host, base, "versioner", app, "test-untrained", work);
        ImageChain.Training training = ImageChain.train(host, "versioner", "test-untrained", Map.of(), broker
                .bootstrapServers(), "", null, work);
        assertThat(training.bytes()).as("cache size").isGreaterThan(1_000_000L);
        ImageChain.Pushed trained = ImageChain.pushWithCache(host, "versioner", image, training.cache(), "test",
                work);
        assertThat(registry.manifestDigest(ImageChain.repository("versioner"), "test")).contains(trained.digest());

        // AOTMode=on: a cache the JVM cannot use stops it instead of being ignored.
        try (ChrootContainer container = ImageChain.run(host, "versioner", "test", Map.of(), broker
                .bootstrapServers(), "-XX:AOTCache=" + ServiceImage.AOT_CACHE + " -XX:AOTMode=on -Xlog:aot",
                work.resolve("verify-root"), ImageChain.freePort())) {
            Duration ready = container.awaitReady(Duration.ofSeconds(90));
            assertThat(container.output()).contains("Opened AOT cache " + ServiceImage.AOT_CACHE);
            assertThat(ready).isPositive();
        }
    }
}
