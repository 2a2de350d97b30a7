package dev.conveyor.testkit.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.JibContainer;
import com.google.cloud.tools.jib.api.RegistryImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;

import dev.conveyor.testkit.FieldInjector;
import dev.conveyor.testkit.TempDirs;

class OciRegistryIT {

    private static OciRegistry registry;
    private static String baseImage;

    @BeforeAll
    static void startRegistry() {
        long started = System.nanoTime();
        registry = OciRegistry.start();
        System.out.printf("OciRegistry started in %d ms%n", Duration.ofNanos(System.nanoTime() - started).toMillis());
        baseImage = BaseImages.seed(registry);
    }

    @AfterAll
    static void stopRegistry() {
        if (registry != null) {
            registry.close();
        }
    }

    @Test
    void seededBaseImageIsListedAndServed() {
        assertThat(baseImage).isEqualTo(registry.host() + "/conveyor/base:1");
        assertThat(registry.tags("conveyor/base")).containsExactly("1");
        assertThat(registry.manifestDigest("conveyor/base", "1")).get().asString().startsWith("sha256:");

        JsonNode manifest = Skopeo.parse(registry.manifest("conveyor/base", "1"));
        assertThat(manifest.path("schemaVersion").asInt()).isEqualTo(2);
        assertThat(manifest.path("layers")).hasSize(1);
        assertThat(registry.manifestDigest("conveyor/base", "missing")).isEmpty();
        assertThat(registry.tags("conveyor/nothing-here")).isEmpty();
    }

    @Test
    void skopeoSeesWhatWasPushed() {
        Skopeo skopeo = Skopeo.create();
        JsonNode summary = Skopeo.parse(skopeo.inspect(baseImage));
        assertThat(summary.path("Os").asText()).isEqualTo("linux");
        assertThat(summary.path("Architecture").asText()).isEqualTo("amd64");
        assertThat(summary.path("Layers")).hasSize(1);
        assertThat(summary.path("Digest").asText())
                .isEqualTo(registry.manifestDigest("conveyor/base", "1").orElseThrow());

        JsonNode config = Skopeo.parse(skopeo.inspectConfig(baseImage));
        assertThat(config.path("config").path("User").asText()).isEqualTo("65532:65532");
        assertThat(config.path("rootfs").path("diff_ids")).hasSize(1);

        JsonNode raw = Skopeo.parse(skopeo.inspectRaw(baseImage));
        assertThat(raw.path("layers")).hasSize(1);
    }

    @Test
    void skopeoFailureCarriesItsStderr() {
        assertThatThrownBy(() -> Skopeo.create().inspect(registry.host() + "/conveyor/absent:1"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("failed with exit code")
                .hasMessageContaining("conveyor/absent");
    }

    @Test
    void seedingTwiceGivesTheSameDigest() {
        String first = registry.manifestDigest("conveyor/base", "1").orElseThrow();
        BaseImages.seed(registry);
        assertThat(registry.manifestDigest("conveyor/base", "1")).contains(first);

        // A second, independent registry gets the byte-identical image too.
        try (OciRegistry other = OciRegistry.start()) {
            BaseImages.seed(other);
            assertThat(other.manifestDigest("conveyor/base", "1")).contains(first);
        }
    }

    @Test
    void jibBuildsOnTopOfTheSeededBase() throws Exception {
        Path work = TempDirs.create("app-image");
        try {
            Path hello = Files.writeString(work.resolve("hello.txt"), "hello from conveyor\n");
            String appImage = registry.host() + "/conveyor/app:1";
            JibContainer container = Jib.from(RegistryImage.named(baseImage))
                    .addFileEntriesLayer(
                            FileEntriesLayer.builder().addEntry(hello, AbsoluteUnixPath.get("/app/hello.txt")).build())
                    .setEntrypoint("/app/run")
                    .containerize(Containerizer.to(RegistryImage.named(appImage)).setAllowInsecureRegistries(true)
                            .setBaseImageLayersCache(work.resolve("base-cache"))
                            .setApplicationLayersCache(work.resolve("app-cache")));

            assertThat(registry.manifestDigest("conveyor/app", "1")).contains(container.getDigest().toString());
            JsonNode config = Skopeo.parse(Skopeo.create().inspectConfig(appImage));
            // The base's user and its layer carry over: the app image is the base plus one layer.
            assertThat(config.path("config").path("User").asText()).isEqualTo("65532:65532");
            assertThat(config.path("rootfs").path("diff_ids")).hasSize(2);
            JsonNode baseConfig = Skopeo.parse(Skopeo.create().inspectConfig(baseImage));
            assertThat(config.path("rootfs").path("diff_ids").get(0))
                    .isEqualTo(baseConfig.path("rootfs").path("diff_ids").get(0));
        } finally {
            TempDirs.deleteQuietly(work);
        }
    }

    @Test
    void closingStopsTheRegistryAndDeletesItsStorage() throws Exception {
        OciRegistry transientRegistry = OciRegistry.start();
        String url = transientRegistry.url();
        Path storageRoot = transientRegistry.logFile().getParent();
        assertThat(status(url + "/v2/")).isEqualTo(200);

        transientRegistry.close();

        assertThat(status(url + "/v2/")).isEqualTo(-1);
        assertThat(storageRoot).doesNotExist();
    }

    @Test
    void basicAuthRegistryDemandsCredentials() {
        try (OciRegistry secured = OciRegistry.startWithBasicAuth("conveyor", "s3cret")) {
            assertThat(status(secured.url() + "/v2/")).isEqualTo(401);
            String reference = BaseImages.seed(secured);
            assertThat(secured.tags("conveyor/base")).containsExactly("1");
            assertThat(Skopeo.parse(Skopeo.forRegistry(secured).inspect(reference)).path("Os").asText())
                    .isEqualTo("linux");
            assertThatThrownBy(() -> Skopeo.create().inspect(reference)).hasMessageContaining("failed");
        }
    }

    @Test
    void resourceProvidesConfigAndInjectsTheRegistry() {
        OciRegistryResource resource = new OciRegistryResource();
        Map<String, String> config = resource.start();
        try {
            Holder holder = new Holder();
            resource.inject(new FieldInjector(holder));
            assertThat(holder.registry).isNotNull();
            assertThat(config).containsEntry("conveyor.testkit.registry.host", holder.registry.host())
                    .containsEntry("conveyor.testkit.registry.url", holder.registry.url())
                    .containsEntry("conveyor.testkit.registry.base-image", holder.registry.host() + "/conveyor/base:1");
            assertThat(holder.registry.tags("conveyor/base")).containsExactly("1");
        } finally {
            resource.stop();
        }
        Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> status(config.get("conveyor.testkit.registry.url") + "/v2/") == -1);
    }

    static final class Holder {
        @InjectOciRegistry
        OciRegistry registry;
        OciRegistry notAnnotated;
    }

    private static int status(String url) {
        try {
            return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()
                    .send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                            HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -2;
        }
    }
}
