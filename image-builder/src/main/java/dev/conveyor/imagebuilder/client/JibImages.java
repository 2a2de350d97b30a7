package dev.conveyor.imagebuilder.client;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

import org.jboss.logging.Logger;

import com.google.cloud.tools.jib.api.CacheDirectoryCreationException;
import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.DescriptorDigest;
import com.google.cloud.tools.jib.api.DockerClient;
import com.google.cloud.tools.jib.api.DockerDaemonImage;
import com.google.cloud.tools.jib.api.DockerInfoDetails;
import com.google.cloud.tools.jib.api.ImageDetails;
import com.google.cloud.tools.jib.api.ImageReference;
import com.google.cloud.tools.jib.api.InsecureRegistryException;
import com.google.cloud.tools.jib.api.InvalidImageReferenceException;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.JibContainer;
import com.google.cloud.tools.jib.api.JibContainerBuilder;
import com.google.cloud.tools.jib.api.LogEvent;
import com.google.cloud.tools.jib.api.Ports;
import com.google.cloud.tools.jib.api.RegistryAuthenticationFailedException;
import com.google.cloud.tools.jib.api.RegistryException;
import com.google.cloud.tools.jib.api.RegistryImage;
import com.google.cloud.tools.jib.api.RegistryUnauthorizedException;
import com.google.cloud.tools.jib.api.TarImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import com.google.cloud.tools.jib.api.buildplan.ImageFormat;
import com.google.cloud.tools.jib.blob.BlobDescriptor;
import com.google.cloud.tools.jib.image.Image;
import com.google.cloud.tools.jib.image.ImageTarball;
import com.google.cloud.tools.jib.image.json.ImageToJsonTranslator;
import com.google.cloud.tools.jib.image.json.OciManifestTemplate;
import com.google.cloud.tools.jib.json.JsonTemplateMapper;
import com.google.cloud.tools.jib.registry.RegistryCredentialsNotSentException;

import dev.conveyor.imagebuilder.domain.ImagePlan;
import dev.conveyor.imagebuilder.service.ImageBuilderFailure;
import dev.conveyor.stage.FailureKind;
import dev.conveyor.stage.StageException;

/**
 * Builds images with Jib: OCI format, the commit time as creation time and Jib's fixed file timestamps, so the same
 * inputs always give the same digest. Pushes to a registry, or only computes the digest (through a throw-away tar) to
 * compare it with what a registry already holds. Jib failures are classified.
 */
public final class JibImages {

    private static final Logger LOG = Logger.getLogger(JibImages.class);
    private static final String TOOL = "conveyor-image-builder";
    /** Prefix of a base image that is a {@code docker save} tarball on the builder's file system. */
    public static final String DOCKER_ARCHIVE = "docker-archive:";
    /** Reads image tarballs from their pipes while Jib writes them. */
    private static final ExecutorService READERS = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "image-builder-tar-reader");
        thread.setDaemon(true);
        return thread;
    });

    private final Path baseCache;
    private final Path appCache;
    private final RegistryCredentials credentials;
    private final RegistryApi registries;
    private final boolean readModel;

    /**
     * @param baseCache Jib's base image layer cache, kept between builds
     * @param appCache Jib's application layer cache, kept between builds: an unchanged dependency layer is taken from
     *     it instead of being compressed again
     */
    public JibImages(Path baseCache, Path appCache, RegistryCredentials credentials, RegistryApi registries) {
        this(baseCache, appCache, credentials, registries, true);
    }

    /**
     * @param readModel whether {@link #build} reads the image from Jib's model (by reflection); {@code false} always
     *     takes the fallback, streaming Jib's tarball through {@link ImageStream}: for the tests that compare the two
     */
    public JibImages(Path baseCache, Path appCache, RegistryCredentials credentials, RegistryApi registries,
            boolean readModel) {
        this.baseCache = baseCache;
        this.appCache = appCache;
        this.credentials = credentials;
        this.registries = registries;
        this.readModel = readModel;
    }

    /** Pushes the image under every tag of the plan and returns its digest. */
    public String push(ImagePlan plan, ImageContent content, Path work) {
        RegistryImage target = registryImage(plan.reference(plan.versionTag()));
        Containerizer containerizer = Containerizer.to(target);
        plan.tags().stream().skip(1).forEach(containerizer::withAdditionalTag);
        return containerize(plan, content, containerizer, work).getDigest().toString();
    }

    /** The digest the image would have, without pushing it (through a throw-away tarball). */
    public String digest(ImagePlan plan, ImageContent content, Path work) {
        return tarball(plan, content, work).digest();
    }

    /** An OCI image tarball and the digest of its manifest. */
    public record Tarball(Path file, String digest) {
    }

    /** Writes the image as an OCI image tarball ({@code oci-layout}, {@code index.json}, {@code blobs/sha256/*}). */
    public Tarball tarball(ImagePlan plan, ImageContent content, Path work) {
        Path file = work.resolve("image.tar");
        // The name only goes into the tarball's own index; the layout names its entries itself.
        TarImage tar = TarImage.at(file).named(reference("localhost/" + plan.repository() + ":" + plan
                .versionTag()));
        return new Tarball(file, containerize(plan, content, Containerizer.to(tar), work).getDigest().toString());
    }

    /**
     * Builds the image with Jib without pushing it and returns what a push needs. Jib's "load into a Docker daemon"
     * target is given a {@link DockerClient} of ours that loads nothing: it takes the image Jib built and describes it
     * (config and manifest made by Jib's own translator, layers as Jib's cache files), so no tarball is written and the
     * 48 MB of unchanged layers are not even read. The manifest's sha256 must equal the digest Jib reports for the
     * build, or the build fails.
     */
    public BuiltImage build(ImagePlan plan, ImageContent content, Path work) {
        java.util.concurrent.atomic.AtomicReference<BuiltImage> loaded = new java.util.concurrent.atomic.AtomicReference<>();
        DockerClient capture = new DockerClient() {
            @Override
            public boolean supported(Map<String, String> parameters) {
                return true;
            }

            @Override
            public String load(ImageTarball tarball, Consumer<Long> written) throws IOException {
                loaded.set(describe(tarball, work));
                return "";
            }

            @Override
            public void save(ImageReference reference, Path out, Consumer<Long> written) {
                throw new UnsupportedOperationException("save");
            }

            @Override
            public ImageDetails inspect(ImageReference reference) {
                throw new UnsupportedOperationException("inspect");
            }

            @Override
            public DockerInfoDetails info() throws IOException {
                // The platform Jib builds for by default; only used to pick among the built images.
                return JsonTemplateMapper.readJson("{\"OSType\":\"linux\",\"Architecture\":\"x86_64\"}",
                        DockerInfoDetails.class);
            }
        };
        DockerDaemonImage target = DockerDaemonImage.named(reference("localhost/" + plan.repository() + ":" + plan
                .versionTag()));
        String digest = containerize(plan, content, Containerizer.to(capture, target), work).getDigest().toString();
        BuiltImage image = loaded.get();
        if (image == null || !image.digest().equals(digest)) {
            throw StageException.transientFailure(ImageBuilderFailure.IMAGE_BUILD_FAILED, "Jib reported " + digest
                    + " but its image describes as " + (image == null ? "nothing" : image.digest()), null);
        }
        return image;
    }

    /**
     * The image inside Jib's tarball object: read from its model when this Jib version exposes it to reflection
     * (nothing is copied), else by streaming the tarball through {@link ImageStream} (every layer is read once).
     */
    private BuiltImage describe(ImageTarball tarball, Path work) throws IOException {
        if (!readModel) {
            return stream(tarball, work);
        }
        Image image = null;
        try {
            java.lang.reflect.Field field = ImageTarball.class.getDeclaredField("image");
            field.setAccessible(true);
            image = (Image) field.get(tarball);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debugf("[image-builder] Jib's image model is out of reach (%s): streaming its tarball", e.toString());
        }
        if (image == null) {
            return stream(tarball, work);
        }
        ImageToJsonTranslator translator = new ImageToJsonTranslator(image);
        byte[] config = JsonTemplateMapper.toByteArray(translator.getContainerConfiguration());
        BlobDescriptor configDescriptor;
        try {
            configDescriptor = new BlobDescriptor(config.length, DescriptorDigest.fromHash(ImageStream.sha256(
                    config)));
        } catch (java.security.DigestException e) {
            throw new IllegalStateException(e);
        }
        byte[] manifest = JsonTemplateMapper.toByteArray(translator.getManifestTemplate(OciManifestTemplate.class,
                configDescriptor));
        // Layer i of the manifest has diff id i of the config; Jib's caches keep it as layers/<digest>/<diff id>.
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        var layers = json.readTree(manifest).path("layers");
        var diffIds = json.readTree(config).path("rootfs").path("diff_ids");
        java.util.Map<String, Path> files = new java.util.HashMap<>();
        java.util.Set<String> fromBase = new java.util.HashSet<>();
        for (int i = 0; i < layers.size(); i++) {
            String hex = layers.get(i).path("digest").asText().replace("sha256:", "");
            String diffId = diffIds.path(i).asText().replace("sha256:", "");
            long size = layers.get(i).path("size").asLong();
            for (Path cache : List.of(baseCache, appCache)) {
                Path candidate = cache.resolve("layers").resolve(hex).resolve(diffId);
                if (!hex.isEmpty() && !diffId.isEmpty() && Files.isRegularFile(candidate) && Files.size(
                        candidate) == size) {
                    files.put(hex, candidate);
                    if (cache.equals(baseCache)) {
                        fromBase.add(hex);
                    }
                    break;
                }
            }
            if (!files.containsKey(hex)) {
                LOG.debugf("[image-builder] layer %s is in no cache: streaming Jib's tarball", hex);
                return stream(tarball, work);
            }
        }
        return ImageStream.describe("sha256:" + ImageStream.sha256(manifest), manifest, config, files, fromBase);
    }

    private BuiltImage stream(ImageTarball tarball, Path work) throws IOException {
        ImageStream stream = new ImageStream(List.of(baseCache, appCache), baseCache, work.resolve("spool"));
        try (var pipe = new java.io.PipedInputStream(1 << 16)) {
            return streamed(tarball, stream, pipe);
        }
    }

    /** Streams the tarball through a pipe into {@code stream} (the fallback of {@link #describe}). */
    private static BuiltImage streamed(ImageTarball tarball, ImageStream stream, java.io.PipedInputStream in)
            throws IOException {
        java.io.PipedOutputStream out = new java.io.PipedOutputStream(in);
        CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> {
            try (out) {
                tarball.writeTo(out);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, READERS);
        stream.read(in);
        in.transferTo(java.io.OutputStream.nullOutputStream());
        try {
            writing.get(5, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("writing Jib's image tarball failed: " + e, e);
        }
        String digest = stream.indexedManifest();
        return stream.image(digest);
    }

    /** Whether a base image reference names a {@code docker save} tarball instead of a registry image. */
    public static boolean isArchive(String baseImage) {
        return baseImage.startsWith(DOCKER_ARCHIVE);
    }

    /** The tarball a {@code docker-archive:<path>} base names. */
    public static Path archivePath(String baseImage) {
        return Path.of(baseImage.substring(DOCKER_ARCHIVE.length()));
    }

    private JibContainer containerize(ImagePlan plan, ImageContent content, Containerizer containerizer, Path work) {
        containerizer.setBaseImageLayersCache(baseCache).setApplicationLayersCache(appCache)
                .setAllowInsecureRegistries(registries.isInsecure(plan.registry())
                        || !isArchive(plan.baseImage()) && registries.isInsecure(registryOf(plan.baseImage())))
                .setToolName(TOOL).addEventHandler(LogEvent.class, JibImages::log);
        if (LOG.isDebugEnabled()) {
            containerizer.addEventHandler(com.google.cloud.tools.jib.event.events.TimerEvent.class, e -> {
                if (e.getState() == com.google.cloud.tools.jib.event.events.TimerEvent.State.FINISHED) {
                    LOG.debugf("[image-builder] jib: %s took %d ms", e.getDescription(), e.getDuration().toMillis());
                }
            });
        }
        try {
            return builder(plan, content).containerize(containerizer);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw StageException.transientFailure(ImageBuilderFailure.IMAGE_BUILD_FAILED, "interrupted", e);
        } catch (ExecutionException e) {
            throw classify(plan, e.getCause() == null ? e : e.getCause());
        } catch (RegistryException | IOException | CacheDirectoryCreationException | RuntimeException e) {
            throw classify(plan, e);
        }
    }

    private JibContainerBuilder builder(ImagePlan plan, ImageContent content) {
        JibContainerBuilder builder = (isArchive(plan.baseImage())
                ? Jib.from(TarImage.at(archivePath(plan.baseImage())))
                : Jib.from(registryImage(baseReference(plan)))).setFormat(ImageFormat.OCI)
                .setCreationTime(plan.creationTime()).setLabels(plan.labels());
        for (FileEntriesLayer layer : content.layers()) {
            if (!layer.getEntries().isEmpty()) {
                builder.addFileEntriesLayer(layer);
            }
        }
        if (!content.entrypoint().isEmpty()) {
            builder.setEntrypoint(content.entrypoint());
        }
        if (!content.args().isEmpty()) {
            builder.setProgramArguments(content.args());
        }
        content.env().forEach(builder::addEnvironmentVariable);
        if (!content.ports().isEmpty()) {
            builder.setExposedPorts(Ports.parse(content.ports()));
        }
        content.user().ifPresent(builder::setUser);
        builder.setWorkingDirectory(AbsoluteUnixPath.get(content.workdir()));
        return builder;
    }

    /** The base image by digest when the plan pinned it, else by its reference. */
    static String baseReference(ImagePlan plan) {
        String digest = plan.labels().get(ImagePlan.BASE_DIGEST_LABEL);
        if (digest == null || isArchive(plan.baseImage())) {
            return plan.baseImage();
        }
        ImageReference base = reference(plan.baseImage());
        return base.getRegistry() + "/" + base.getRepository() + "@" + digest;
    }

    private RegistryImage registryImage(String reference) {
        ImageReference parsed = reference(reference);
        RegistryImage image = RegistryImage.named(parsed);
        Optional<RegistryCredentials.Credential> credential = credentials.find(parsed.getRegistry());
        credential.ifPresent(c -> image.addCredential(c.username(), c.password()));
        return image;
    }

    /** The registry host of an image reference, Docker Hub for short names. */
    public static String registryOf(String reference) {
        return reference(reference).getRegistry();
    }

    /**
     * Parses an image reference; an invalid one is a terminal configuration error. Docker Hub's official images live in
     * {@code library/}: Jib adds it to short names ({@code nginx}) only, so it is added here for one-part repositories
     * on an explicit Docker Hub host too ({@code docker.io/nginx}, {@code index.docker.io/nginx}), as Docker does, and
     * every Docker Hub alias becomes {@code registry-1.docker.io}, the host that serves its API.
     */
    public static ImageReference reference(String reference) {
        try {
            ImageReference parsed = ImageReference.parse(reference);
            if (RegistryCredentials.isDockerHub(parsed.getRegistry())) {
                String repository = parsed.getRepository();
                return ImageReference.of(RegistryCredentials.apiHost(parsed.getRegistry()), repository.contains("/")
                        ? repository
                        : "library/" + repository, parsed.getTag().orElse(null), parsed.getDigest().orElse(null));
            }
            return parsed;
        } catch (InvalidImageReferenceException e) {
            throw StageException.terminal(ImageBuilderFailure.INVALID_CONFIG, "'" + reference
                    + "' is not a valid image reference", Map.of("field", "image.base"));
        }
    }

    private static StageException classify(ImagePlan plan, Throwable e) {
        if (e instanceof StageException stage) {
            return stage;
        }
        String target = plan.fullRepository();
        if (e instanceof RegistryUnauthorizedException || e instanceof RegistryCredentialsNotSentException
                || e instanceof RegistryAuthenticationFailedException) {
            return new StageException(FailureKind.TERMINAL, ImageBuilderFailure.REGISTRY_AUTH_DENIED, "a registry "
                    + "denied access while building " + target + ": check conveyor.image-builder.registries",
                    Map.of("repository", target), e);
        }
        if (e instanceof InsecureRegistryException) {
            return RegistryApi.tlsFailure(plan.registry(), (Exception) e);
        }
        String text = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
        if (text.contains("manifest_unknown") || text.contains("manifest unknown")) {
            return new StageException(FailureKind.TERMINAL, ImageBuilderFailure.BASE_IMAGE_NOT_FOUND, "base image "
                    + plan.baseImage() + " does not exist", Map.of("baseImage", plan.baseImage()), e);
        }
        if (e instanceof IOException || e instanceof RegistryException) {
            return new StageException(FailureKind.TRANSIENT, ImageBuilderFailure.REGISTRY_UNAVAILABLE, "pushing "
                    + target + " failed: " + e.getClass().getSimpleName() + " " + firstLine(e.getMessage()),
                    Map.of("repository", target), e);
        }
        return new StageException(FailureKind.TRANSIENT, ImageBuilderFailure.IMAGE_BUILD_FAILED, "building " + target
                + " failed: " + e.getClass().getSimpleName() + " " + firstLine(e.getMessage()), Map.of(), e);
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }

    private static void log(LogEvent event) {
        String message = event.getMessage();
        // Jib tries HTTPS before plain HTTP even for registries listed as insecure; that is expected, not a warning.
        boolean expected = message.startsWith("Cannot verify server at https://")
                || message.startsWith("Failed to connect to https://");
        switch (event.getLevel()) {
            case ERROR, WARN -> {
                if (expected) {
                    LOG.debugf("[image-builder] jib: %s", message);
                } else {
                    LOG.warnf("[image-builder] jib: %s", message);
                }
            }
            default -> LOG.debugf("[image-builder] jib: %s", message);
        }
    }
}
