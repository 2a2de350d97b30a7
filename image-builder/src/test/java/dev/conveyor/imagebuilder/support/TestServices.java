package dev.conveyor.imagebuilder.support;

import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import dev.conveyor.imagebuilder.client.AppSources;
import dev.conveyor.imagebuilder.client.ArtifactFetcher;
import dev.conveyor.imagebuilder.client.ArtifactUnpacker;
import dev.conveyor.imagebuilder.client.JibImages;
import dev.conveyor.imagebuilder.client.RegistryApi;
import dev.conveyor.imagebuilder.client.RegistryCredentials;
import dev.conveyor.imagebuilder.domain.ArtifactKind;
import dev.conveyor.imagebuilder.domain.ImageDefaults;
import dev.conveyor.imagebuilder.service.ImageBuildService;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.stage.net.OutboundPolicy;

/** Wires an {@link ImageBuildService} the way the CDI producer does, with test settings. */
public final class TestServices {

    private final Path root;
    private String registry;
    private Optional<String> namespace = Optional.empty();
    private String base;
    private boolean pushLatest;
    private final Map<String, RegistryCredentials.Credential> credentials = new HashMap<>();
    private final Map<String, ArtifactFetcher.HostAuth> artifactAuth = new HashMap<>();
    private long maxBytes = 512L * 1024 * 1024;
    private Path baseCache;
    private Path appCache;
    private boolean insecure = true;
    private boolean jibPush;
    private java.util.function.UnaryOperator<HttpClient> registryHttp = http -> http;

    private TestServices(Path root) {
        this.root = root;
        this.baseCache = root.resolve("base-cache");
        this.appCache = root.resolve("app-cache");
    }

    /** A service whose mirrors, caches and work directories live under {@code root}; artifacts may come from it. */
    public static TestServices under(Path root) {
        return new TestServices(root);
    }

    public TestServices registry(String registry) {
        this.registry = registry;
        return this;
    }

    public TestServices namespace(String namespace) {
        this.namespace = Optional.of(namespace);
        return this;
    }

    public TestServices base(String base) {
        this.base = base;
        return this;
    }

    /** Lists no registry as insecure: every registry must speak HTTPS. */
    public TestServices httpsOnly() {
        this.insecure = false;
        return this;
    }

    public TestServices pushLatest(boolean pushLatest) {
        this.pushLatest = pushLatest;
        return this;
    }

    public TestServices credentials(String host, String user, String password) {
        credentials.put(host, new RegistryCredentials.Credential(user, password));
        System.setProperty("sendCredentialsOverHttp", "true");
        return this;
    }

    public TestServices artifactAuth(String host, String user, String password) {
        artifactAuth.put(host, new ArtifactFetcher.HostAuth(Optional.of(user), Optional.of(password),
                Optional.empty()));
        return this;
    }

    /** Pushes with Jib's own registry client, as before {@code RegistryApi.push}: the old path, to compare with. */
    public TestServices jibPush(boolean jibPush) {
        this.jibPush = jibPush;
        return this;
    }

    /** Wraps the HTTP client the registry API uses (to make calls fail where a test needs it). */
    public TestServices registryHttp(java.util.function.UnaryOperator<HttpClient> wrap) {
        this.registryHttp = wrap;
        return this;
    }

    public TestServices maxBytes(long maxBytes) {
        this.maxBytes = maxBytes;
        return this;
    }

    /** Jib's base and application layer caches under {@code dir} instead of the shared ones. */
    public TestServices caches(Path dir) {
        this.baseCache = dir.resolve("base");
        this.appCache = dir.resolve("app");
        return this;
    }

    public ImageBuildService build() {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NEVER).build();
        RegistryCredentials creds = new RegistryCredentials(credentials);
        RegistryApi api = new RegistryApi(registryHttp.apply(http), creds, insecure
                ? Set.copyOf(List.of(registry, JibImages.isArchive(base) ? registry : JibImages.registryOf(base)))
                : Set.of(),
                Duration.ofSeconds(20));
        // A stack that serves its registry and artifacts on loopback, as the tests' and the local stack do.
        OutboundPolicy outbound = OutboundPolicy.builder().schemes(List.of("http", "https", "file")).allowedNetworks(
                List.of("127.0.0.0/8", "::1/128")).fileRoots(List.of(root)).build();
        ArtifactFetcher fetcher = new ArtifactFetcher(http, maxBytes, Duration.ofMinutes(2), List.of(root),
                artifactAuth, outbound);
        ImageDefaults defaults = new ImageDefaults(registry, namespace, base, base, ArtifactKind.JAR, pushLatest);
        return new ImageBuildService(new AppSources(new RepoMirrors(root.resolve("mirrors"), GitAccess.create(
                GitCredentials.none()))), fetcher, new ArtifactUnpacker(4L * 1024 * 1024 * 1024, 100_000),
                new JibImages(baseCache, appCache, creds, api), api, defaults, root.resolve("work"), Clock.systemUTC(),
                outbound, jibPush);
    }
}
