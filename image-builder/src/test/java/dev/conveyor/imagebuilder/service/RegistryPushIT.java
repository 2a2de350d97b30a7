package dev.conveyor.imagebuilder.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.conveyor.events.v1.Artifact;
import dev.conveyor.events.v1.BumpReason;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.imagebuilder.support.Artifacts;
import dev.conveyor.imagebuilder.support.FailingHttpClient;
import dev.conveyor.imagebuilder.support.TestServices;
import dev.conveyor.stage.StageException;
import dev.conveyor.testkit.TempDirs;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.registry.BaseImages;
import dev.conveyor.testkit.registry.OciRegistry;

/**
 * The push by {@code RegistryApi} (Jib only builds) against a real registry: the same digest and manifest as Jib's own
 * push for the same input, the base layer mounted instead of uploaded, and a push that dies before its manifest leaves
 * no tag and is finished by a rerun with the same digest.
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

    private static boolean isManifestPut(HttpRequest request) {
        return request.method().equals("PUT") && request.uri().getPath().contains("/manifests/");
    }

    private static VersionResolved resolved(String app, String commit, String version, Path artifact) {
        PipelineRun run = PipelineRun.start(app, repos.open(app).fileUrl(), commit, "main", null, Flow.CD);
        return new VersionResolved(run, Instant.now(), null, version, "v" + version, true, null, BumpReason.PATCH,
                List.of(), new Artifact(artifact.toUri().toString(), Artifacts.sha256(artifact), null, "jar"));
    }
}
