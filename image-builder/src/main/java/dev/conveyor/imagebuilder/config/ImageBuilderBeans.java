package dev.conveyor.imagebuilder.config;

import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.imagebuilder.client.AppSources;
import dev.conveyor.imagebuilder.client.ArtifactFetcher;
import dev.conveyor.imagebuilder.client.ArtifactUnpacker;
import dev.conveyor.imagebuilder.client.JibImages;
import dev.conveyor.imagebuilder.client.OciLayout;
import dev.conveyor.imagebuilder.client.RegistryApi;
import dev.conveyor.imagebuilder.client.RegistryCredentials;
import dev.conveyor.imagebuilder.domain.ArtifactKind;
import dev.conveyor.imagebuilder.domain.ImageDefaults;
import dev.conveyor.imagebuilder.service.ImageBuildService;
import dev.conveyor.imagebuilder.service.ImageBuilderWarmUp;
import dev.conveyor.stage.StageMetrics;
import dev.conveyor.stage.StageRunner;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.stage.messaging.StageEdge;
import dev.conveyor.stage.net.OutboundPolicy;
import dev.conveyor.stage.warmup.WarmUp;
import io.micrometer.core.instrument.MeterRegistry;

/** Wires the plain stage classes from configuration. */
@ApplicationScoped
public class ImageBuilderBeans {

    /** Jib's JVM-wide switch that lets it send credentials to a plain-HTTP registry. */
    static final String SEND_CREDENTIALS_OVER_HTTP = "sendCredentialsOverHttp";

    @Produces
    @ApplicationScoped
    ImageBuildService imageBuildService(ImageBuilderConfig config, GitAccess access, OutboundPolicy outbound)
            throws IOException {
        return create(config, access, outbound, Clock.systemUTC());
    }

    static ImageBuildService create(ImageBuilderConfig config, GitAccess shared, OutboundPolicy outbound, Clock clock)
            throws IOException {
        // The app repository and the artifact URL come from events: dialled only if the policy allows them.
        GitAccess access = shared.restrictedTo(outbound, "repoUrl");
        // An oci-layout:<dir> target with a relative directory fails at start-up, not on the first run.
        OciLayout.forRegistry(config.registry());
        Files.createDirectories(config.mirrorDir());
        Files.createDirectories(config.workDir());
        Map<String, RegistryCredentials.Credential> byHost = new HashMap<>();
        config.registries().forEach((host, r) -> byHost.put(host, new RegistryCredentials.Credential(r.username(),
                r.password())));
        RegistryCredentials credentials = new RegistryCredentials(byHost);
        List<String> insecure = config.insecureRegistries().orElse(List.of());
        if (insecure.stream().anyMatch(host -> credentials.find(host).isPresent())) {
            // Only registries the operator listed as insecure are ever spoken to over HTTP.
            System.setProperty(SEND_CREDENTIALS_OVER_HTTP, "true");
        }
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NEVER).build();
        RegistryApi registries = new RegistryApi(http, credentials, Set.copyOf(insecure), config.registryTimeout());
        Map<String, ArtifactFetcher.HostAuth> artifactAuth = new HashMap<>();
        config.artifact().auth().forEach((host, a) -> artifactAuth.put(host, new ArtifactFetcher.HostAuth(a
                .username(), a.password(), a.token())));
        ArtifactFetcher fetcher = new ArtifactFetcher(http, config.artifact().maxBytes(), config.artifact().timeout(),
                config.artifact().fileRoots(), artifactAuth, outbound);
        ArtifactUnpacker unpacker = new ArtifactUnpacker(config.artifact().maxUnpackedBytes(), config.artifact()
                .maxFiles());
        JibImages images = new JibImages(config.workDir().resolve("base-cache"), config.workDir().resolve(
                "app-cache"), credentials, registries);
        ArtifactKind kind = ArtifactKind.parse(config.defaultKind()).orElseThrow(() -> new IllegalArgumentException(
                "conveyor.image-builder.default-kind must be 'jar' or 'directory'"));
        ImageDefaults defaults = new ImageDefaults(config.registry(), config.namespace(), config.jarBaseImage(),
                config.directoryBaseImage(), kind, config.pushLatest());
        return new ImageBuildService(new AppSources(new RepoMirrors(config.mirrorDir(), access)),
                fetcher, unpacker, images, registries, defaults, config.workDir(), clock, outbound);
    }

    /**
     * Run once after start by stage-support's {@code WarmUpStarter} ({@code conveyor.warm-up.enabled}): the service
     * wired as {@link #create} does, with everything it touches under the warm-up's scratch directory.
     */
    @Produces
    @ApplicationScoped
    WarmUp warmUp(ImageBuilderConfig config, GitAccess shared) {
        return new ImageBuilderWarmUp(scratch -> scratchService(config, shared, scratch));
    }

    static ImageBuildService scratchService(ImageBuilderConfig config, GitAccess shared, Path scratch) {
        // Only the warm-up's own file: URLs, under its scratch directory.
        OutboundPolicy local = OutboundPolicy.builder().schemes(List.of("file")).fileRoots(List.of(scratch)).build();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NEVER).build();
        RegistryCredentials none = new RegistryCredentials(Map.of());
        RegistryApi registries = new RegistryApi(http, none, Set.of(), config.registryTimeout());
        ArtifactFetcher fetcher = new ArtifactFetcher(http, config.artifact().maxBytes(), config.artifact().timeout(),
                List.of(scratch), Map.of(), local);
        ArtifactUnpacker unpacker = new ArtifactUnpacker(config.artifact().maxUnpackedBytes(), config.artifact()
                .maxFiles());
        JibImages images = new JibImages(scratch.resolve("base-cache"), scratch.resolve("app-cache"), none,
                registries);
        String base = JibImages.DOCKER_ARCHIVE + scratch.resolve(ImageBuilderWarmUp.BASE_TAR);
        ImageDefaults defaults = new ImageDefaults(OciLayout.PREFIX + scratch.resolve(ImageBuilderWarmUp.LAYOUT),
                config.namespace(), base, base, ArtifactKind.JAR, config.pushLatest());
        return new ImageBuildService(new AppSources(new RepoMirrors(scratch.resolve("mirrors"), shared)), fetcher,
                unpacker, images, registries, defaults, scratch.resolve("work"), Clock.systemUTC(), local);
    }

    @Produces
    @ApplicationScoped
    StageRunner stageRunner(ImageBuilderConfig config, MeterRegistry registry) {
        return new StageRunner(Stage.IMAGE_BUILDER, config.retry().backoff(), new StageMetrics(registry,
                Stage.IMAGE_BUILDER));
    }

    /** The Kafka edge: the runner, and one emitter for every topic the stage emits to. */
    @Produces
    @ApplicationScoped
    StageEdge stageEdge(StageRunner runner, @Channel(StageEdge.CHANNEL) Emitter<ConveyorEvent> events) {
        return new StageEdge(runner, events);
    }
}
