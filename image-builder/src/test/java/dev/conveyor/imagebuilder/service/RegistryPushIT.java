package dev.conveyor.imagebuilder.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;

import dev.conveyor.events.v1.Artifact;
import dev.conveyor.events.v1.BumpReason;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.imagebuilder.client.BuiltImage;
import dev.conveyor.imagebuilder.client.ImageContent;
import dev.conveyor.imagebuilder.client.JibImages;
import dev.conveyor.imagebuilder.client.RegistryApi;
import dev.conveyor.imagebuilder.client.RegistryCredentials;
import dev.conveyor.imagebuilder.domain.ArtifactKind;
import dev.conveyor.imagebuilder.domain.ImagePlan;
import dev.conveyor.imagebuilder.support.Artifacts;
import dev.conveyor.imagebuilder.support.FailingHttpClient;
import dev.conveyor.imagebuilder.support.RegistryFront;
import dev.conveyor.imagebuilder.support.TestServices;
import dev.conveyor.stage.FailureKind;
import dev.conveyor.stage.StageException;
import dev.conveyor.testkit.TempDirs;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.registry.BaseImages;
import dev.conveyor.testkit.registry.OciRegistry;

/**
 * The push by {@code RegistryApi} (Jib only builds) against a real registry: the same digest and manifest as Jib's own
 * push for the same input, the base layer mounted instead of uploaded, and a push that dies before its manifest leaves
 * no tag and is finished by a rerun with the same digest. Where the registry must misbehave (an upload sent to another
 * host, a blob HEAD redirected to storage) an in-test {@link RegistryFront} stands before it. The tarball fallback of
 * {@link JibImages#build} gives the image Jib's model gives.
 */
class RegistryPushIT {

    static OciRegistry registry;
    static String base;
    static GitRepos repos;
    static Path root;

    @BeforeAll
    static void start() {
        registry = OciRegistry.start();
        base = BaseImages.seed(registry);
        repos = new GitRepos();
        root = TempDirs.create("image-builder-push-it");
    }

    @AfterAll
    static void stop() {
        registry.close();
        repos.close();
        TempDirs.deleteQuietly(root);
    }

    @Test
    void ourPushGivesTheManifestJibsOwnPushGivesAndMountsTheBaseLayer() {
        String commit = repos.createBare("golden").writer().file("README.md", "golden").message("feat: golden")
                .commit();
        List<String> mounts = new CopyOnWriteArrayList<>();
        TestServices ours = TestServices.under(root).registry(registry.host()).base(base).namespace("ours").caches(
                root.resolve("ours-cache")).registryHttp(http -> new FailingHttpClient(http, request -> {
                    if (String.valueOf(request.uri().getRawQuery()).contains("mount=")) {
                        mounts.add(request.uri().getRawQuery());
                    }
                    return false;
                }));
        TestServices jibs = TestServices.under(root).registry(registry.host()).base(base).namespace("jibs").caches(
                root.resolve("jibs-cache")).jibPush(true);

        for (String version : List.of("1.0.0", "1.0.1")) {
            // Same dependencies, new application classes: the second is a warm build on both paths.
            Path jar = Artifacts.fatJar(root.resolve("golden/app-" + version + ".jar"), "com.example.Main", 4, 3,
                    4096, version.hashCode());
            VersionResolved event = resolved("golden", commit, version, jar);
            ImageBuildService.Result byJib = jibs.build().build(event, "cause");
            ImageBuildService.Result result = ours.build().build(event, "cause");

            assertThat(result.pushed()).isTrue();
            assertThat(result.event().digest()).isEqualTo(byJib.event().digest());
            assertThat(registry.manifest("ours/golden", version)).isEqualTo(registry.manifest("jibs/golden",
                    version));
            assertThat(registry.tags("ours/golden")).contains(version, commit.substring(0, 7));
            assertThat(result.event().sizeBytes()).isEqualTo(byJib.event().sizeBytes());
        }
        // The base's one layer came from conveyor/base by a cross-repository mount, once: the second build found it.
        assertThat(mounts).hasSize(1).allMatch(query -> query.contains("from=conveyor%2Fbase"));
    }

    @Test
    void aPushThatDiesBeforeItsManifestLeavesNoTagAndARerunFinishesItWithTheSameDigest() {
        String commit = repos.createBare("crash").writer().file("README.md", "crash").message("feat: crash")
                .commit();
        Path jar = Artifacts.fatJar(root.resolve("crash/app.jar"), "com.example.Main", 3, 2, 2048, 7);
        VersionResolved event = resolved("crash", commit, "2.0.0", jar);
        String golden = TestServices.under(root).registry(registry.host()).base(base).namespace("golden").caches(
                root.resolve("golden-cache")).jibPush(true).build().build(event, "cause").event().digest();

        FailingHttpClient[] failing = new FailingHttpClient[1];
        TestServices dying = TestServices.under(root).registry(registry.host()).base(base).namespace("crash").caches(
                root.resolve("crash-cache")).registryHttp(
                        http -> failing[0] = new FailingHttpClient(http,
                                RegistryPushIT::isManifestPut));
        assertThatThrownBy(() -> dying.build().build(event, "cause")).isInstanceOfSatisfying(StageException.class,
                e -> assertThat(e.reason()).isEqualTo("REGISTRY_UNAVAILABLE"));
        assertThat(failing[0].failed()).isEqualTo(1);
        assertThat(registry.tags("crash/crash")).isEmpty();

        ImageBuildService.Result rerun = TestServices.under(root).registry(registry.host()).base(base).namespace(
                "crash").caches(root.resolve("crash-cache")).build().build(event, "cause");
        assertThat(rerun.pushed()).isTrue();
        assertThat(rerun.event().digest()).isEqualTo(golden);
        assertThat(registry.tags("crash/crash")).containsExactlyInAnyOrder("2.0.0", commit.substring(0, 7));
        assertThat(registry.manifestDigest("crash/crash", "2.0.0")).contains(golden);
    }

    @Test
    void anUploadLocationOnAnotherOriginFailsTheBuildAndNothingGoesThereOrIsTagged() {
        String password = "front-registry-password";
        String commit = repos.createBare("moved").writer().file("README.md", "moved").message("feat: moved")
                .commit();
        Path jar = Artifacts.fatJar(root.resolve("moved/app.jar"), "com.example.Main", 1, 1, 512, 5);
        try (RegistryFront front = RegistryFront.start(registry.host());
                RegistryFront.Elsewhere elsewhere = RegistryFront.Elsewhere.start()) {
            // The registry's upload, sent to another host and port (with a user and password in the URL for good
            // measure): a layer must never go there.
            front.uploadLocation(location -> {
                URI uri = URI.create(location);
                return elsewhere.origin().replace("://", "://mirror:" + password + "@") + uri.getRawPath() + "?" + uri
                        .getRawQuery();
            });
            ImageBuildService service = TestServices.under(root).registry(front.host()).base(base).credentials(front
                    .host(), "ci", password).caches(root.resolve("moved-cache")).build();

            Throwable failure = catchThrowable(() -> service.build(resolved("moved", commit, "1.0.0", jar), "cause"));

            assertThat(elsewhere.requests()).isEmpty();
            assertThat(front.requests()).anyMatch(request -> request.startsWith("POST /v2/moved/blobs/uploads/"))
                    .noneMatch(request -> request.startsWith("PUT "));
            assertThat(registry.tags("moved")).isEmpty();
            assertThat(failure).isInstanceOfSatisfying(StageException.class, e -> {
                assertThat(e.reason()).isEqualTo("IMAGE_BUILD_FAILED");
                assertThat(e.kind()).isEqualTo(FailureKind.TERMINAL);
                assertThat(e.details()).containsEntry("registry", front.host());
                assertThat(e.getMessage()).contains("registry " + front.host(), elsewhere.origin().replace("http://",
                        ""), "another origin").doesNotContain(password);
            });
        }
    }

    @Test
    void aBlobHeadRedirectedWith307IsPresentWithoutFollowingItAndA302IsNot() throws IOException {
        // The base's layers are in the registry; a HEAD through the front finds them and answers with a redirect.
        var manifest = new ObjectMapper().readTree(registry.manifest(BaseImages.REPOSITORY, BaseImages.TAG));
        String layer = manifest.path("layers").path(0).path("digest").asText();
        String missing = "sha256:" + "0".repeat(64);
        try (RegistryFront front = RegistryFront.start(registry.host());
                RegistryFront.Elsewhere storage = RegistryFront.Elsewhere.start()) {
            RegistryApi api = new RegistryApi(HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                    .build(), new RegistryCredentials(Map.of()), Set.of(front.host()), Duration.ofSeconds(20));
            assertThat(api.blobExists(front.host(), BaseImages.REPOSITORY, layer)).isTrue();

            // Distribution on object storage: a 307 to a signed storage URL, sent only for a blob it found.
            front.redirectBlobHeads(307, storage.origin());
            assertThat(api.blobExists(front.host(), BaseImages.REPOSITORY, layer)).isTrue();
            assertThat(api.blobExists(front.host(), BaseImages.REPOSITORY, missing)).isFalse();
            // Any other redirect (a proxy, a login page) says nothing about the blob: absent, so it is uploaded.
            front.redirectBlobHeads(302, storage.origin());
            assertThat(api.blobExists(front.host(), BaseImages.REPOSITORY, layer)).isFalse();

            assertThat(front.requests()).filteredOn(request -> request.startsWith("HEAD ")).hasSize(4);
            assertThat(storage.requests()).isEmpty();
        }
    }

    @Test
    void theTarballFallbackDescribesTheImageJibsModelDescribesAndItPushesToTheSameDigest() throws IOException {
        Path dir = Files.createDirectories(root.resolve("streamed"));
        Path small = Files.writeString(dir.resolve("hello.txt"), "hello");
        // Over ImageStream's in-memory limit and incompressible: a layer the stream finds in Jib's cache.
        byte[] noise = new byte[ImageStreamLimit.BYTES + 4096];
        new Random(11).nextBytes(noise);
        Path large = Files.write(dir.resolve("noise.bin"), noise);
        ImageContent content = new ImageContent(List.of(FileEntriesLayer.builder().setName("large").addEntry(large,
                AbsoluteUnixPath.get("/app/noise.bin")).build(), FileEntriesLayer.builder().setName("small")
                        .addEntry(
                                small, AbsoluteUnixPath.get("/app/hello.txt"))
                        .build()),
                List.of("/bin/true"), List.of(), Map.of(), List.of(), Optional.empty(), "/app");
        ImagePlan plan = new ImagePlan(registry.host(), "streamed", List.of("1.0.0"), true, base, ArtifactKind.JAR,
                Map.of(), Instant.parse("2026-01-01T00:00:00Z"));
        RegistryApi api = new RegistryApi(HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build(),
                new RegistryCredentials(Map.of()), Set.of(registry.host()), Duration.ofSeconds(20));
        Path caches = root.resolve("streamed-cache");

        BuiltImage model = new JibImages(caches.resolve("base"), caches.resolve("app"), new RegistryCredentials(Map
                .of()), api).build(plan, content, Files.createDirectories(root.resolve("streamed-work-1")));
        BuiltImage streamed = new JibImages(caches.resolve("base"), caches.resolve("app"), new RegistryCredentials(
                Map.of()), api, false).build(plan, content, Files.createDirectories(root.resolve("streamed-work-2")));

        assertThat(streamed.digest()).isEqualTo(model.digest());
        assertThat(streamed.manifest()).isEqualTo(model.manifest());
        assertThat(streamed.manifestMediaType()).isEqualTo(model.manifestMediaType());
        assertThat(streamed.config().bytes()).isEqualTo(model.config().bytes());
        assertThat(streamed.layers()).hasSize(3).extracting(BuiltImage.Blob::digest, BuiltImage.Blob::size,
                BuiltImage.Blob::mediaType, BuiltImage.Blob::fromBase).isEqualTo(
                        model.layers().stream().map(
                                blob -> org.assertj.core.groups.Tuple.tuple(blob.digest(), blob.size(),
                                        blob.mediaType(), blob
                                                .fromBase()))
                                .toList());
        // The stream really ran: it keeps a small layer in memory where the model points at Jib's cache file.
        assertThat(model.layers()).allMatch(blob -> blob.file() != null && blob.bytes() == null);
        assertThat(streamed.layers().get(2).bytes()).isNotNull();
        assertThat(streamed.layers().get(1).file()).isEqualTo(model.layers().get(1).file());

        // The registry checks every blob and the manifest against their digests.
        api.push(registry.host(), "streamed", streamed, List.of("1.0.0"), Optional.empty());
        assertThat(registry.manifestDigest("streamed", "1.0.0")).contains(model.digest());
    }

    /** ImageStream's in-memory limit (package-private there): 1 MiB. */
    private static final class ImageStreamLimit {
        static final int BYTES = 1 << 20;
    }

    private static boolean isManifestPut(HttpRequest request) {
        return request.method().equals("PUT") && request.uri().getPath().contains("/manifests/");
    }

    private static VersionResolved resolved(String app, String commit, String version, Path artifact) {
        PipelineRun run = PipelineRun.start(app, repos.open(app).fileUrl(), commit, "main", null, Flow.CD);
        return new VersionResolved(run, Instant.now(), null, version, "v" + version, true, null, BumpReason.PATCH,
                List.of(), new Artifact(artifact.toUri().toString(), Artifacts.sha256(artifact), null, "jar"));
    }
}
