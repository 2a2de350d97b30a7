package dev.conveyor.imagebuilder.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import dev.conveyor.events.v1.Artifact;
import dev.conveyor.events.v1.BumpReason;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.imagebuilder.client.OciLayout;
import dev.conveyor.imagebuilder.support.Artifacts;
import dev.conveyor.imagebuilder.support.TestServices;
import dev.conveyor.stage.StageException;
import dev.conveyor.testkit.TempDirs;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.registry.BaseImages;
import dev.conveyor.testkit.registry.Skopeo;

/**
 * The image builder with no registry at all: FROM a {@code docker save} tarball into an OCI image-layout directory,
 * checked with the real skopeo ({@code oci:<dir>:<ref>}).
 */
class OciLayoutBuildIT {

    static GitRepos repos;
    static Path root;
    static Path baseTar;
    static String base;

    @BeforeAll
    static void start() {
        repos = new GitRepos();
        root = TempDirs.create("image-builder-oci-it");
        baseTar = root.resolve("base.tar");
        BaseImages.seedTar(baseTar);
        base = "docker-archive:" + baseTar;
    }

    @AfterAll
    static void stop() {
        repos.close();
        TempDirs.deleteQuietly(root);
    }

    @Test
    void aJarAppGoesFromATarballIntoTheLayoutAndAReplayWritesNothing() throws Exception {
        Path layout = root.resolve("layout-shop");
        String commit = appRepo("shop", "image:\n  ports: [8080]\n");
        Path jar = Artifacts.fatJar(root.resolve("shop/app.jar"), "com.example.Main", 3, 2, 1024, 1);
        VersionResolved event = resolved("shop", commit, Flow.CD, "1.2.0", jar);

        ImageBuildService.Result result = service(layout).build().build(event, "cause-1");

        ImagePushed pushed = result.event();
        String sha7 = commit.substring(0, 7);
        assertThat(result.pushed()).isTrue();
        assertThat(pushed.repository()).isEqualTo("oci-layout:" + layout + "/apps/shop");
        assertThat(pushed.tags()).containsExactly("1.2.0", sha7, "latest");
        assertThat(Files.readString(layout.resolve("oci-layout"))).contains("\"imageLayoutVersion\":\"1.0.0\"");
        assertThat(refs(layout)).containsExactlyInAnyOrderEntriesOf(Map.of("apps/shop:1.2.0", pushed.digest(),
                "apps/shop:" + sha7, pushed.digest(), "apps/shop:latest", pushed.digest()));
        for (String tag : pushed.tags()) {
            JsonNode inspect = Skopeo.parse(skopeo("inspect", "oci:" + layout + ":apps/shop:" + tag));
            assertThat(inspect.path("Digest").asText()).as(tag).isEqualTo(pushed.digest());
        }
        JsonNode inspect = Skopeo.parse(skopeo("inspect", "oci:" + layout + ":apps/shop:1.2.0"));
        assertThat(inspect.path("Labels").path("org.opencontainers.image.base.digest").asText())
                .isEqualTo("sha256:" + sha256(baseTar));
        assertThat(inspect.path("Labels").path("org.opencontainers.image.base.name").asText()).isEqualTo(base);
        JsonNode manifest = Skopeo.parse(skopeo("inspect", "--raw", "oci:" + layout + ":apps/shop:1.2.0"));
        assertThat(manifest.path("mediaType").asText()).isEqualTo("application/vnd.oci.image.manifest.v1+json");
        // base, dependencies, application
        assertThat(manifest.path("layers")).hasSize(3);
        long size = manifest.path("config").path("size").asLong();
        for (JsonNode layer : manifest.path("layers")) {
            size += layer.path("size").asLong();
        }
        assertThat(pushed.sizeBytes()).isEqualTo(size);
        JsonNode config = Skopeo.parse(skopeo("inspect", "--config", "oci:" + layout + ":apps/shop:1.2.0"))
                .path("config");
        assertThat(config.path("ExposedPorts").has("8080/tcp")).isTrue();
        assertThat(config.path("User").asText()).isEqualTo(BaseImages.NONROOT_UID + ":" + BaseImages.NONROOT_UID);

        Map<String, String> before = snapshot(layout);
        ImageBuildService.Result replay = service(layout).build().build(event, "cause-1");

        assertThat(replay.pushed()).isFalse();
        assertThat(replay.event().digest()).isEqualTo(pushed.digest());
        assertThat(replay.event().tags()).isEqualTo(pushed.tags());
        assertThat(replay.event().sizeBytes()).isEqualTo(pushed.sizeBytes());
        assertThat(snapshot(layout)).as("a replay writes nothing").isEqualTo(before);
    }

    @Test
    void aReleaseTagIsNeverOverwrittenAndLatestFollowsTheNewestRelease() throws Exception {
        Path layout = root.resolve("layout-orders");
        BareRepo repo = repos.createBare("orders");
        String first = repo.writer().file("README.md", "1").message("feat: one").commit();
        String second = repo.writer().file("README.md", "2").message("feat: two").commit();
        Path jar = Artifacts.fatJar(root.resolve("orders/one.jar"), "com.example.Orders", 2, 1, 256, 1);
        Path changed = Artifacts.fatJar(root.resolve("orders/two.jar"), "com.example.Orders", 2, 1, 256, 2);

        String one = service(layout).build().build(resolved("orders", first, Flow.CD, "1.0.0", jar), null).event()
                .digest();
        Map<String, String> before = snapshot(layout);

        assertThatThrownBy(() -> service(layout).build().build(resolved("orders", first, Flow.CD, "1.0.0",
                changed), null)).isInstanceOfSatisfying(StageException.class, e -> {
                    assertThat(e.reason()).isEqualTo("IMMUTABLE_TAG");
                    assertThat(e.getMessage()).contains("1.0.0", one);
                });
        assertThat(snapshot(layout)).as("a refused release leaves the layout as it was").isEqualTo(before);

        ImagePushed two = service(layout).build().build(resolved("orders", second, Flow.CD, "1.1.0", changed), null)
                .event();
        assertThat(two.digest()).isNotEqualTo(one);
        assertThat(refs(layout)).containsEntry("apps/orders:1.0.0", one).containsEntry("apps/orders:1.1.0", two
                .digest()).containsEntry("apps/orders:latest", two.digest());
        assertThat(Skopeo.parse(skopeo("inspect", "oci:" + layout + ":apps/orders:latest")).path("Digest").asText())
                .isEqualTo(two.digest());
        assertThat(Skopeo.parse(skopeo("inspect", "oci:" + layout + ":apps/orders:1.0.0")).path("Digest").asText())
                .isEqualTo(one);
    }

    @Test
    void concurrentBuildsIntoOneLayoutKeepEveryEntry() throws Exception {
        Path layout = root.resolve("layout-shared");
        String cartCommit = appRepo("cart", "");
        String userCommit = appRepo("users", "");
        Path cartJar = Artifacts.fatJar(root.resolve("cart/app.jar"), "com.example.Cart", 2, 1, 256, 1);
        Path userJar = Artifacts.fatJar(root.resolve("users/app.jar"), "com.example.Users", 2, 1, 256, 1);

        CompletableFuture<ImagePushed> cart = CompletableFuture.supplyAsync(() -> service(layout).caches(root.resolve(
                "cache-cart")).build().build(resolved("cart", cartCommit, Flow.CD, "3.0.0", cartJar), null).event());
        CompletableFuture<ImagePushed> users = CompletableFuture.supplyAsync(() -> service(layout).caches(root
                .resolve("cache-users")).build().build(resolved("users", userCommit, Flow.CD, "4.0.0", userJar), null)
                .event());

        ImagePushed cartPushed = cart.get(2, TimeUnit.MINUTES);
        ImagePushed usersPushed = users.get(2, TimeUnit.MINUTES);

        assertThat(refs(layout)).hasSize(6).containsEntry("apps/cart:3.0.0", cartPushed.digest())
                .containsEntry("apps/cart:latest", cartPushed.digest())
                .containsEntry("apps/users:4.0.0", usersPushed.digest())
                .containsEntry("apps/users:latest", usersPushed.digest());
    }

    @Test
    void aRelativeLayoutDirectoryIsAConfigurationError() {
        assertThatThrownBy(() -> OciLayout.forRegistry("oci-layout:relative/dir")).isInstanceOfSatisfying(
                StageException.class, e -> {
                    assertThat(e.reason()).isEqualTo("INVALID_CONFIG");
                    assertThat(e.getMessage()).contains("conveyor.image-builder.registry");
                });
        assertThat(OciLayout.forRegistry("registry.example.com:5000")).isEmpty();
    }

    private static Map<String, String> refs(Path layout) throws IOException {
        Map<String, String> refs = new TreeMap<>();
        JsonNode index = Skopeo.parse(Files.readString(layout.resolve("index.json")));
        assertThat(index.path("schemaVersion").asInt()).isEqualTo(2);
        for (JsonNode entry : index.path("manifests")) {
            assertThat(entry.path("mediaType").asText()).isEqualTo("application/vnd.oci.image.manifest.v1+json");
            assertThat(Files.size(layout.resolve("blobs/sha256/" + entry.path("digest").asText().substring(7))))
                    .isEqualTo(entry.path("size").asLong());
            String previous = refs.put(entry.path("annotations").path(OciLayout.REF_NAME).asText(), entry.path(
                    "digest").asText());
            assertThat(previous).as("one entry per ref name").isNull();
        }
        return refs;
    }

    /** Every file of the layout with its content hash and modification time. */
    private static Map<String, String> snapshot(Path layout) throws IOException {
        try (Stream<Path> files = Files.walk(layout)) {
            Map<String, String> snapshot = new TreeMap<>();
            files.filter(Files::isRegularFile).forEach(f -> {
                try {
                    snapshot.put(layout.relativize(f).toString(), sha256(f) + "@" + Files.getLastModifiedTime(f));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            return snapshot;
        }
    }

    private static String skopeo(String... args) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(Stream.concat(Stream.of("skopeo"), Stream.of(args)).toList())
                .redirectErrorStream(true).start();
        byte[] out = process.getInputStream().readAllBytes();
        assertThat(process.waitFor(Skopeo.TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        String text = new String(out, StandardCharsets.UTF_8);
        assertThat(process.exitValue()).as("skopeo %s: %s", List.of(args), text).isZero();
        return text;
    }

    private static String sha256(Path file) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static TestServices service(Path layout) {
        return TestServices.under(root).registry("oci-layout:" + layout).namespace("apps").base(base)
                .pushLatest(true);
    }

    private static String appRepo(String name, String conveyorYaml) {
        BareRepo repo = repos.createBare(name);
        var writer = repo.writer().file("README.md", name);
        if (!conveyorYaml.isEmpty()) {
            writer.file(".conveyor.yaml", conveyorYaml);
        }
        return writer.message("feat: " + name).commit();
    }

    private static VersionResolved resolved(String app, String commit, Flow flow, String version, Path artifact) {
        PipelineRun run = PipelineRun.start(app, repos.open(app).fileUrl(), commit, "main", null, flow);
        return new VersionResolved(run, Instant.now(), null, version, "v" + version, true, null, BumpReason.INITIAL,
                List.of(), new Artifact(artifact.toUri().toString(), Artifacts.sha256(artifact), null, "jar"));
    }
}
