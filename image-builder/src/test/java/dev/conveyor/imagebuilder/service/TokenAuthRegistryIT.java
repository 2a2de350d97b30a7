package dev.conveyor.imagebuilder.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.conveyor.events.v1.Artifact;
import dev.conveyor.events.v1.BumpReason;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.imagebuilder.client.ImageContent;
import dev.conveyor.imagebuilder.client.JibImages;
import dev.conveyor.imagebuilder.client.RegistryApi;
import dev.conveyor.imagebuilder.client.RegistryCredentials;
import dev.conveyor.imagebuilder.domain.ArtifactKind;
import dev.conveyor.imagebuilder.domain.ImagePlan;
import dev.conveyor.imagebuilder.support.Artifacts;
import dev.conveyor.imagebuilder.support.TestServices;
import dev.conveyor.stage.StageException;
import dev.conveyor.testkit.TempDirs;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.registry.BaseImages;
import dev.conveyor.testkit.registry.TokenAuthRegistry;

/**
 * Pushes and pulls through a real registry that demands Docker Hub's token flow ({@code auth: token}, a token service
 * signing JWTs per {@code scope}): Jib for the push, {@link RegistryApi} for digests and manifests.
 */
class TokenAuthRegistryIT {

    static final String PASSWORD = "s3cret-registry-password";
    static final String WRONG = "not-the-registry-password";

    static TokenAuthRegistry registry;
    static String base;
    static GitRepos repos;
    static Path root;

    final List<String> logged = new CopyOnWriteArrayList<>();
    final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            logged.add(record.getMessage() + " " + record.getThrown());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeAll
    static void start() {
        registry = TokenAuthRegistry.start("ci", PASSWORD);
        base = BaseImages.seed(registry.host(), Optional.of(registry.credentials()));
        repos = new GitRepos();
        root = TempDirs.create("image-builder-token-it");
    }

    @AfterAll
    static void stop() {
        registry.close();
        repos.close();
        TempDirs.deleteQuietly(root);
    }

    @BeforeEach
    void captureLogs() {
        capture.setLevel(Level.ALL);
        Logger.getLogger("").addHandler(capture);
    }

    @AfterEach
    void releaseLogs() {
        Logger.getLogger("").removeHandler(capture);
    }

    @Test
    void anImageIsPushedWithAPushTokenAndItsManifestReadBackWithAPullToken() {
        String commit = repos.createBare("shop").writer().file("README.md", "shop").message("feat: shop").commit();
        Path jar = Artifacts.fatJar(root.resolve("shop/app.jar"), "com.example.Main", 2, 1, 1024, 1);
        ImageBuildService service = TestServices.under(root).registry(registry.host()).base(base).credentials(
                registry.host(), "ci", PASSWORD).build();

        ImagePushed pushed = service.build(resolved("shop", commit, jar), "cause-1").event();

        assertThat(registry.tags("shop")).containsExactlyInAnyOrder("1.2.0", commit.substring(0, 7));
        assertThat(registry.manifestDigest("shop", "1.2.0")).contains(pushed.digest());
        assertThat(registry.grantedScopes()).contains("repository:shop:pull,push", "repository:shop:pull",
                "repository:conveyor/base:pull");

        RegistryApi api = api(PASSWORD);
        RegistryApi.Manifest manifest = api.manifest(registry.host(), "shop", "1.2.0").orElseThrow();
        assertThat(manifest.digest()).isEqualTo(pushed.digest());
        assertThat(manifest.mediaType()).isEqualTo("application/vnd.oci.image.manifest.v1+json");
        assertThat(api.digest(registry.host(), "shop", "9.9.9")).isEmpty();
        api.putManifest(registry.host(), "shop", "moved", manifest);
        assertThat(registry.manifestDigest("shop", "moved")).contains(pushed.digest());
        assertThat(logged).noneMatch(line -> line.contains(PASSWORD));
    }

    @Test
    void ourPushAsksTheTokenServiceOnceAndGivesTheDigestOfJibsOwnPush() {
        String commit = repos.createBare("tokened").writer().file("README.md", "tokened").message("feat: tokened")
                .commit();
        Path jar = Artifacts.fatJar(root.resolve("tokened/app.jar"), "com.example.Main", 3, 2, 2048, 3);
        VersionResolved event = resolved("tokened", commit, jar);
        String byJib = TestServices.under(root).registry(registry.host()).base(base).credentials(registry.host(), "ci",
                PASSWORD).namespace("jib").caches(root.resolve("tokened-jib")).jibPush(true).build().build(event,
                        "cause-1")
                .event().digest();
        int before = pushTokens("ours/tokened");

        ImagePushed pushed = TestServices.under(root).registry(registry.host()).base(base).credentials(registry
                .host(), "ci", PASSWORD).namespace("ours").caches(root.resolve("tokened-ours")).build().build(event,
                        "cause-1")
                .event();

        assertThat(pushed.digest()).isEqualTo(byJib);
        assertThat(registry.manifestDigest("ours/tokened", "1.2.0")).contains(byJib);
        // Blob checks, uploads and both manifest PUTs ran on one push token, asked for once and sent up front; the
        // base layer's mount asked for one more that may also read conveyor/base.
        assertThat(pushTokens("ours/tokened") - before).isEqualTo(2);
        assertThat(logged).noneMatch(line -> line.contains(PASSWORD));
    }

    private static int pushTokens(String repository) {
        return (int) registry.grantedScopes().stream().filter(scope -> scope.equals("repository:" + repository
                + ":pull,push")).count();
    }

    @Test
    void aWrongPasswordIsRegistryAuthDeniedAndNoMessageOrLogCarriesIt() {
        int deniedBefore = registry.deniedTokenRequests();

        assertThatThrownBy(() -> api(WRONG).manifest(registry.host(), BaseImages.REPOSITORY, BaseImages.TAG))
                .isInstanceOfSatisfying(StageException.class, e -> {
                    assertThat(e.reason()).isEqualTo("REGISTRY_AUTH_DENIED");
                    assertThat(e.getMessage()).contains("token service refused").doesNotContain(WRONG);
                });

        RegistryCredentials wrong = new RegistryCredentials(Map.of(registry.host(), new RegistryCredentials.Credential(
                "ci", WRONG)));
        JibImages jib = new JibImages(root.resolve("jib-base"), root.resolve("jib-app"), wrong, api(WRONG));
        ImagePlan plan = new ImagePlan(registry.host(), "denied", List.of("1.0.0"), false, base, ArtifactKind.JAR,
                Map.of(), Instant.parse("2026-01-01T00:00:00Z"));
        ImageContent content = new ImageContent(List.of(), List.of("/bin/true"), List.of(), Map.of(), List.of(),
                Optional.empty(), "/");
        assertThatThrownBy(() -> jib.push(plan, content, TempDirs.create("jib-denied")))
                .isInstanceOfSatisfying(StageException.class, e -> {
                    assertThat(e.reason()).isEqualTo("REGISTRY_AUTH_DENIED");
                    assertThat(e.getMessage()).doesNotContain(WRONG);
                    for (Throwable t = e; t != null; t = t.getCause()) {
                        assertThat(String.valueOf(t.getMessage())).doesNotContain(WRONG);
                    }
                });

        assertThat(registry.deniedTokenRequests()).isGreaterThan(deniedBefore);
        assertThat(registry.tags("denied")).isEmpty();
        assertThat(logged).noneMatch(line -> line.contains(WRONG));
    }

    @Test
    void aTokenWithoutThePushScopeIsRegistryAuthDeniedFromJib() {
        try (TokenAuthRegistry readOnly = TokenAuthRegistry.start("reader", PASSWORD, (repository, action) -> action
                .equals("pull") || repository.equals(BaseImages.REPOSITORY))) {
            String readOnlyBase = BaseImages.seed(readOnly.host(), Optional.of(readOnly.credentials()));
            String commit = repos.createBare("viewer").writer().file("README.md", "viewer").message("feat: viewer")
                    .commit();
            Path jar = Artifacts.fatJar(root.resolve("viewer/app.jar"), "com.example.Main", 1, 1, 512, 1);
            ImageBuildService service = TestServices.under(root).registry(readOnly.host()).base(readOnlyBase)
                    .credentials(readOnly.host(), "reader", PASSWORD).caches(root.resolve("read-only-cache")).build();

            assertThatThrownBy(() -> service.build(resolved("viewer", commit, jar), "cause-1"))
                    .isInstanceOfSatisfying(StageException.class, e -> {
                        assertThat(e.reason()).isEqualTo("REGISTRY_AUTH_DENIED");
                        assertThat(e.getMessage()).contains("viewer").doesNotContain(PASSWORD);
                    });
            // The token service was asked for push and left it out; the registry stored nothing.
            assertThat(readOnly.grantedScopes()).contains("repository:viewer:pull").doesNotContain(
                    "repository:viewer:pull,push");
            assertThat(readOnly.tags("viewer")).isEmpty();
        }
    }

    private static RegistryApi api(String password) {
        return new RegistryApi(HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build(),
                new RegistryCredentials(Map.of(registry.host(), new RegistryCredentials.Credential("ci", password))),
                Set.of(registry.host()), Duration.ofSeconds(20));
    }

    private static VersionResolved resolved(String app, String commit, Path artifact) {
        PipelineRun run = PipelineRun.start(app, repos.open(app).fileUrl(), commit, "main", null, Flow.CD);
        return new VersionResolved(run, Instant.now(), null, "1.2.0", "v1.2.0", true, null, BumpReason.INITIAL, List
                .of(), new Artifact(artifact.toUri().toString(), Artifacts.sha256(artifact), null, "jar"));
    }
}
