package dev.conveyor.imagebuilder.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;

import dev.conveyor.events.v1.Artifact;
import dev.conveyor.events.v1.BumpReason;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.StageFailed;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.imagebuilder.support.Artifacts;
import dev.conveyor.imagebuilder.support.CountingProxy;
import dev.conveyor.imagebuilder.support.TestServices;
import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.StageMetrics;
import dev.conveyor.stage.StageRunner;
import dev.conveyor.testkit.Ports;
import dev.conveyor.testkit.TempDirs;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.registry.BaseImages;
import dev.conveyor.testkit.registry.OciRegistry;
import dev.conveyor.testkit.registry.Skopeo;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** The image builder against a real registry, checked through the registry API and skopeo. */
class ImageBuildServiceIT {

    static OciRegistry registry;
    static String base;
    static GitRepos repos;
    static Path root;
    static Skopeo skopeo;

    @BeforeAll
    static void start() {
        registry = OciRegistry.start();
        base = BaseImages.seed(registry);
        repos = new GitRepos();
        root = TempDirs.create("image-builder-it");
        skopeo = Skopeo.create();
    }

    @AfterAll
    static void stop() {
        registry.close();
        repos.close();
        TempDirs.deleteQuietly(root);
    }

    @Test
    void aJarAppIsPushedWithDependenciesApartAndTheSameInputsGiveTheSameDigest() {
        String commit = appRepo("shop", """
                image:
                  ports: [8080, 9090/udp]
                  env: {JAVA_TOOL_OPTIONS: -Xmx64m, MODE: prod}
                """);
        Path jar = Artifacts.fatJar(root.resolve("shop/app.jar"), "com.example.Main", 5, 3, 4096, 1);
        VersionResolved event = resolved("shop", commit, Flow.CD, "1.2.0", jar, "jar");

        ImageBuildService.Result result = service().pushLatest(true).build().build(event, "cause-1");

        ImagePushed pushed = result.event();
        assertThat(result.pushed()).isTrue();
        assertThat(pushed.repository()).isEqualTo(registry.host() + "/shop");
        assertThat(pushed.tags()).containsExactly("1.2.0", commit.substring(0, 7), "latest");
        assertThat(registry.tags("shop")).containsExactlyInAnyOrder("1.2.0", commit.substring(0, 7), "latest");
        for (String tag : pushed.tags()) {
            assertThat(registry.manifestDigest("shop", tag)).contains(pushed.digest());
        }
        JsonNode manifest = Skopeo.parse(skopeo.inspectRaw(registry.host() + "/shop:1.2.0"));
        assertThat(manifest.path("mediaType").asText()).isEqualTo("application/vnd.oci.image.manifest.v1+json");
        // base, dependencies, application
        assertThat(manifest.path("layers")).hasSize(3);
        long size = manifest.path("config").path("size").asLong();
        for (JsonNode layer : manifest.path("layers")) {
            size += layer.path("size").asLong();
        }
        assertThat(pushed.sizeBytes()).isEqualTo(size);
        JsonNode config = Skopeo.parse(skopeo.inspectConfig(registry.host() + "/shop:1.2.0")).path("config");
        assertThat(texts(config.path("Entrypoint"))).containsExactly("java", "-cp", "/app:/app/lib/*",
                "com.example.Main");
        assertThat(names(config.path("ExposedPorts"))).containsExactlyInAnyOrder("8080/tcp", "9090/udp");
        assertThat(texts(config.path("Env"))).contains("JAVA_TOOL_OPTIONS=-Xmx64m", "MODE=prod",
                "PATH=/usr/local/bin:/usr/bin:/bin");
        assertThat(config.path("User").asText()).isEqualTo("65532:65532");
        assertThat(config.path("WorkingDir").asText()).isEqualTo("/app");
        JsonNode inspect = Skopeo.parse(skopeo.inspect(registry.host() + "/shop:1.2.0"));
        assertThat(inspect.path("Digest").asText()).isEqualTo(pushed.digest());
        JsonNode labels = inspect.path("Labels");
        assertThat(labels.path("org.opencontainers.image.source").asText()).isEqualTo(event.run().repoUrl());
        assertThat(labels.path("org.opencontainers.image.revision").asText()).isEqualTo(commit);
        assertThat(labels.path("org.opencontainers.image.version").asText()).isEqualTo("1.2.0");
        assertThat(Instant.parse(labels.path("org.opencontainers.image.created").asText())).isBefore(Instant.now());
        assertThat(labels.path("org.opencontainers.image.base.digest").asText())
                .isEqualTo(registry.manifestDigest(BaseImages.REPOSITORY, BaseImages.TAG).orElseThrow());

        // Same inputs, fresh caches, another repository: the same image, byte for byte.
        ImageBuildService.Result again = TestServices.under(root).registry(registry.host()).base(base)
                .namespace("copy").pushLatest(true).caches(root.resolve("other-cache")).build()
                .build(event, "cause-1");
        assertThat(again.event().repository()).isEqualTo(registry.host() + "/copy/shop");
        assertThat(again.event().digest()).isEqualTo(pushed.digest());
    }

    @Test
    void aDirectoryAppIsDownloadedOverHttpWithItsConfiguredCredentials() throws IOException {
        String commit = appRepo("site", """
                image:
                  kind: directory
                  entrypoint: [/srv/site/bin/start, --serve]
                  args: [--port, "8000"]
                  ports: [8000]
                  env: {SITE: blue}
                  user: "1000:1000"
                  workdir: /srv/site
                """);
        Path tgz = Artifacts.tarGz(root.resolve("site/site.tar.gz"), Map.of("bin/start", "#!/bin/sh\necho hi\n",
                "public/index.html", "<h1>hi</h1>"));
        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        List<String> authorizations = new ArrayList<>();
        http.createContext("/artifacts/site.tar.gz", exchange -> {
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            authorizations.add(String.valueOf(auth));
            if (!("Basic " + Base64.getEncoder().encodeToString("jenkins:s3cret".getBytes())).equals(auth)) {
                exchange.sendResponseHeaders(401, -1);
                exchange.close();
                return;
            }
            byte[] body = Files.readAllBytes(tgz);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        http.start();
        try {
            String url = "http://127.0.0.1:" + http.getAddress().getPort() + "/artifacts/site.tar.gz";
            VersionResolved event = new VersionResolved(run("site", commit, Flow.CD), Instant.now(), null, "0.3.0",
                    "v0.3.0", true, null, BumpReason.INITIAL, List.of(), new Artifact(url, Artifacts.sha256(tgz),
                            Files.size(tgz), null));

            ImagePushed pushed = service().artifactAuth("127.0.0.1:" + http.getAddress().getPort(), "jenkins",
                    "s3cret").build().build(event, null).event();

            assertThat(authorizations).hasSize(1);
            assertThat(registry.tags("site")).containsExactlyInAnyOrder("0.3.0", commit.substring(0, 7));
            JsonNode manifest = Skopeo.parse(skopeo.inspectRaw(registry.host() + "/site:0.3.0"));
            assertThat(manifest.path("layers")).hasSize(2);
            JsonNode config = Skopeo.parse(skopeo.inspectConfig(registry.host() + "/site@" + pushed.digest()))
                    .path("config");
            assertThat(texts(config.path("Entrypoint"))).containsExactly("/srv/site/bin/start", "--serve");
            assertThat(texts(config.path("Cmd"))).containsExactly("--port", "8000");
            assertThat(names(config.path("ExposedPorts"))).containsExactly("8000/tcp");
            assertThat(texts(config.path("Env"))).contains("SITE=blue");
            assertThat(config.path("User").asText()).isEqualTo("1000:1000");
            assertThat(config.path("WorkingDir").asText()).isEqualTo("/srv/site");
        } finally {
            http.stop(0);
        }
    }

    @Test
    void aReplayPushesNothingAndAPullRequestGetsItsPreReleaseTagOnly() throws IOException {
        String commit = appRepo("cart", "");
        Path jar = Artifacts.fatJar(root.resolve("cart/app.jar"), "com.example.Cart", 3, 2, 2048, 1);
        try (CountingProxy proxy = new CountingProxy("127.0.0.1", Integer.parseInt(registry.host().split(":")[1]))) {
            ImageBuildService service = TestServices.under(root).registry(proxy.host()).base(proxy.host() + "/"
                    + BaseImages.REPOSITORY + ":" + BaseImages.TAG).build();
            VersionResolved event = resolved("cart", commit, Flow.CI, "1.0.0-pr.7." + commit.substring(0, 7), jar,
                    "jar");

            ImageBuildService.Result first = service.build(event, "c1");
            int writesAfterFirst = proxy.writes();
            List<String> tagsAfterFirst = registry.tags("cart");
            ImageBuildService.Result replay = service.build(event, "c1");

            assertThat(first.pushed()).isTrue();
            assertThat(writesAfterFirst).isPositive();
            assertThat(tagsAfterFirst).containsExactly("1.0.0-pr.7." + commit.substring(0, 7));
            assertThat(replay.pushed()).isFalse();
            assertThat(proxy.writes()).isEqualTo(writesAfterFirst);
            assertThat(registry.tags("cart")).isEqualTo(tagsAfterFirst);
            assertThat(replay.event().digest()).isEqualTo(first.event().digest());
            assertThat(replay.event().tags()).isEqualTo(first.event().tags());
        }
    }

    @Test
    void aReplayOnlyAddsMissingTagsAndNeverMovesLatestBack() {
        BareRepo repo = repos.createBare("orders");
        String first = repo.writer().file("README.md", "1").message("feat: one").commit();
        String second = repo.writer().file("README.md", "2").message("feat: two").commit();
        Path jar = Artifacts.fatJar(root.resolve("orders/one.jar"), "com.example.Orders", 2, 1, 256, 1);
        Path newer = Artifacts.fatJar(root.resolve("orders/two.jar"), "com.example.Orders", 2, 1, 256, 2);
        VersionResolved one = resolved("orders", first, Flow.CD, "1.0.0", jar, "jar");

        String oneDigest = service().build().build(one, null).event().digest();
        assertThat(registry.tags("orders")).containsExactlyInAnyOrder("1.0.0", first.substring(0, 7));

        // Replayed once latest is configured: the missing tag is added without pushing the image again.
        ImageBuildService.Result replay = service().pushLatest(true).build().build(one, null);
        assertThat(replay.pushed()).isFalse();
        assertThat(replay.event().tags()).containsExactly("1.0.0", first.substring(0, 7), "latest");
        assertThat(registry.manifestDigest("orders", "latest")).contains(oneDigest);

        String twoDigest = service().pushLatest(true).build().build(resolved("orders", second, Flow.CD, "1.1.0",
                newer, "jar"), null).event().digest();
        assertThat(registry.manifestDigest("orders", "latest")).contains(twoDigest);

        // Replaying the older release leaves latest on the newer one.
        ImageBuildService.Result old = service().pushLatest(true).build().build(one, null);
        assertThat(old.pushed()).isFalse();
        assertThat(old.event().tags()).containsExactly("1.0.0", first.substring(0, 7));
        assertThat(registry.manifestDigest("orders", "latest")).contains(twoDigest);
        assertThat(registry.manifestDigest("orders", "1.0.0")).contains(oneDigest);
    }

    @Test
    void aChangedDependencyUnderTheSamePathIsNeverTakenFromTheLayerCache() {
        String commit = appRepo("ledger", "");
        Path jar = Artifacts.fatJar(root.resolve("ledger/a.jar"), "com.example.Ledger", 2, 2, 2048, 1, 1);
        Path changed = Artifacts.fatJar(root.resolve("ledger/b.jar"), "com.example.Ledger", 2, 2, 2048, 1, 2);
        ImageBuildService service = service().build();

        String first = service.build(resolved("ledger", commit, Flow.CD, "1.0.0", jar, "jar"), null).event().digest();
        String second = service.build(resolved("ledger", commit, Flow.CD, "1.0.1", changed, "jar"), null).event()
                .digest();

        JsonNode one = Skopeo.parse(skopeo.inspectRaw(registry.host() + "/ledger@" + first)).path("layers");
        JsonNode two = Skopeo.parse(skopeo.inspectRaw(registry.host() + "/ledger@" + second)).path("layers");
        assertThat(two.get(0).path("digest")).as("base").isEqualTo(one.get(0).path("digest"));
        assertThat(two.get(1).path("digest")).as("dependencies").isNotEqualTo(one.get(1).path("digest"));
        assertThat(two.get(2).path("digest")).as("application").isEqualTo(one.get(2).path("digest"));
    }

    @Test
    void aReleaseTagIsNeverOverwrittenWithAnotherImage() {
        String commit = appRepo("billing", "");
        Path jar = Artifacts.fatJar(root.resolve("billing/app.jar"), "com.example.Billing", 3, 1, 1024, 1);
        Path other = Artifacts.fatJar(root.resolve("billing/other.jar"), "com.example.Billing", 3, 1, 1024, 2);
        ImageBuildService service = service().build();
        String digest = service.build(resolved("billing", commit, Flow.CD, "2.0.0", jar, "jar"), null).event()
                .digest();

        StageFailed failed = runThrough(service, resolved("billing", commit, Flow.CD, "2.0.0", other, "jar"),
                new AtomicInteger());

        assertThat(failed.reason()).isEqualTo("IMMUTABLE_TAG");
        assertThat(failed.retryable()).isFalse();
        assertThat(failed.message()).contains("2.0.0", digest);
        assertThat(registry.manifestDigest("billing", "2.0.0")).contains(digest);
    }

    @Test
    void eachFailureIsAStageFailedWithItsReasonAndPushesNothing() throws IOException {
        String commit = appRepo("broken", "");
        Path jar = Artifacts.fatJar(root.resolve("broken/app.jar"), "com.example.Main", 2, 1, 512, 1);
        ImageBuildService service = service().build();

        Map<String, VersionResolved> cases = Map.of(
                "ARTIFACT_MISSING", resolved("broken", commit, Flow.CD, "1.0.0", root.resolve("broken/none.jar"),
                        "jar", "ab".repeat(32)),
                "CHECKSUM_MISMATCH", resolved("broken", commit, Flow.CD, "1.0.0", jar, "jar", "cd".repeat(32)));
        for (Map.Entry<String, VersionResolved> c : cases.entrySet()) {
            StageFailed failed = runThrough(service, c.getValue(), new AtomicInteger());
            assertThat(failed.reason()).as(c.getKey()).isEqualTo(c.getKey());
            assertThat(failed.retryable()).isFalse();
        }

        String noBase = appRepo("nobase", "image:\n  base: " + registry.host() + "/conveyor/missing:9\n");
        StageFailed baseMissing = runThrough(service, resolved("nobase", noBase, Flow.CD, "1.0.0", jar, "jar"),
                new AtomicInteger());
        assertThat(baseMissing.reason()).isEqualTo("BASE_IMAGE_NOT_FOUND");
        assertThat(baseMissing.message()).contains("conveyor/missing:9");

        // A base image the repository names is dialled (or read) only if the outbound policy allows it.
        List<String> hostileBases = List.of("169.254.169.254/latest/meta:1", "10.0.0.7:5000/base:1",
                "docker-archive:/etc/passwd");
        for (int i = 0; i < hostileBases.size(); i++) {
            String hostile = hostileBases.get(i);
            String repo = appRepo("hostile-base-" + i, "image:\n  base: " + hostile + "\n");
            StageFailed refused = runThrough(service, resolved("hostile-base-" + i, repo, Flow.CD, "1.0.0", jar,
                    "jar"), new AtomicInteger());
            assertThat(refused.reason()).as(hostile).isEqualTo("OUTBOUND_REFUSED");
            assertThat(refused.details()).as(hostile).containsEntry("field", "image.base");
            assertThat(refused.retryable()).isFalse();
        }

        try (OciRegistry guarded = OciRegistry.startWithBasicAuth("ci", "right-password")) {
            String guardedBase = BaseImages.seed(guarded);
            ImageBuildService wrong = TestServices.under(root).registry(guarded.host()).base(guardedBase)
                    .credentials(guarded.host(), "ci", "wrong-password").build();
            StageFailed denied = runThrough(wrong, resolved("broken", commit, Flow.CD, "1.0.0", jar, "jar"),
                    new AtomicInteger());
            assertThat(denied.reason()).isEqualTo("REGISTRY_AUTH_DENIED");
            assertThat(denied.retryable()).isFalse();
            assertThat(denied.message()).doesNotContain("wrong-password");
            assertThat(guarded.tags("broken")).isEmpty();
        }

        StageFailed plainHttp = runThrough(service().httpsOnly().build(), resolved("broken", commit, Flow.CD,
                "1.0.0", jar, "jar"), new AtomicInteger());
        assertThat(plainHttp.reason()).isEqualTo("REGISTRY_TLS_ERROR");
        assertThat(plainHttp.retryable()).isFalse();
        assertThat(plainHttp.message()).contains("insecure-registries");

        String down = "127.0.0.1:" + Ports.free();
        ImageBuildService unreachable = TestServices.under(root).registry(down).base(base).build();
        AtomicInteger attempts = new AtomicInteger();
        StageFailed unavailable = runThrough(unreachable, resolved("broken", commit, Flow.CD, "1.0.0", jar, "jar"),
                attempts);
        assertThat(unavailable.reason()).isEqualTo("REGISTRY_UNAVAILABLE");
        assertThat(unavailable.retryable()).isTrue();
        assertThat(attempts).hasValue(3);

        assertThat(registry.tags("broken")).isEmpty();
        assertThat(registry.tags("nobase")).isEmpty();
        try (var builds = Files.list(root.resolve("work/builds"));
                var staged = Files.list(root.resolve("work/staging"))) {
            assertThat(builds).as("work directories are deleted on every path").isEmpty();
            assertThat(staged).as("unpacked artifacts are deleted on every path").isEmpty();
        }
    }

    private static StageFailed runThrough(ImageBuildService service, VersionResolved event, AtomicInteger attempts) {
        StageRunner runner = new StageRunner(Stage.IMAGE_BUILDER, new Backoff(3, Duration.ofMillis(1),
                Duration.ofMillis(2)), new StageMetrics(new SimpleMeterRegistry(), Stage.IMAGE_BUILDER),
                java.time.Clock.systemUTC(), d -> {
                });
        List<ConveyorEvent> out = runner.run(event, "cause", attempt -> {
            attempts.incrementAndGet();
            return List.of(service.build(event, "cause").event());
        });
        assertThat(out).hasSize(1).first().isInstanceOf(StageFailed.class);
        return (StageFailed) out.get(0);
    }

    private static TestServices service() {
        return TestServices.under(root).registry(registry.host()).base(base);
    }

    private static String appRepo(String name, String conveyorYaml) {
        BareRepo repo = repos.createBare(name);
        var writer = repo.writer().file("README.md", name);
        if (!conveyorYaml.isEmpty()) {
            writer.file(".conveyor.yaml", conveyorYaml);
        }
        return writer.message("feat: " + name).commit();
    }

    private static PipelineRun run(String app, String commit, Flow flow) {
        return PipelineRun.start(app, repos.open(app).fileUrl(), commit, flow == Flow.CI ? "feature" : "main",
                flow == Flow.CI ? 7 : null, flow);
    }

    private static VersionResolved resolved(String app, String commit, Flow flow, String version, Path artifact,
            String kind) {
        return resolved(app, commit, flow, version, artifact, kind, Artifacts.sha256(artifact));
    }

    private static VersionResolved resolved(String app, String commit, Flow flow, String version, Path artifact,
            String kind, String sha256) {
        return new VersionResolved(run(app, commit, flow), Instant.now(), null, version, flow == Flow.CD
                ? "v" + version
                : null, true, null, BumpReason.INITIAL, List.of(),
                new Artifact(artifact.toUri().toString(), sha256,
                        null, kind));
    }

    private static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(n -> texts.add(n.asText()));
        return texts;
    }

    private static List<String> names(JsonNode object) {
        List<String> names = new ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
