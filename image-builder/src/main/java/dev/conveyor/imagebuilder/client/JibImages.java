package dev.conveyor.imagebuilder.client;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.jboss.logging.Logger;

import com.google.cloud.tools.jib.api.CacheDirectoryCreationException;
import com.google.cloud.tools.jib.api.Containerizer;
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

    /**
     * @param baseCache Jib's base image layer cache, kept between builds
     * @param appCache Jib's application layer cache, kept between builds: an unchanged dependency layer is taken from
     *     it instead of being compressed again
     */
    public JibImages(Path baseCache, Path appCache, RegistryCredentials credentials, RegistryApi registries) {
        this.baseCache = baseCache;
        this.appCache = appCache;
        this.credentials = credentials;
        this.registries = registries;
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

    /**
     * Builds the image with Jib without pushing it and returns what a push needs: Jib writes its OCI image tarball into
     * a named pipe that is read here as it is written, so no tarball is stored. Layers Jib's caches hold are not copied
     * (their bytes are skipped; the push reads the cache file), the others and the small blobs are kept. The manifest
     * and config are Jib's, byte for byte, so the digest is the one Jib's own push would give.
     */
    public BuiltImage build(ImagePlan plan, ImageContent content, Path work) {
        Path pipe = work.resolve("image.pipe");
        ImageStream stream = new ImageStream(List.of(baseCache, appCache), baseCache, work.resolve("spool"));
        TarImage tar = TarImage.at(pipe).named(reference("localhost/" + plan.repository() + ":" + plan
                .versionTag()));
        String digest;
        if (!makePipe(pipe)) {
            // No named pipes here: the same through a file.
            digest = containerize(plan, content, Containerizer.to(tar), work).getDigest().toString();
            try (InputStream in = Files.newInputStream(pipe)) {
                stream.read(in);
            } catch (IOException e) {
                throw StageException.transientFailure(ImageBuilderFailure.IMAGE_BUILD_FAILED, "cannot read Jib's "
                        + "image tarball: " + e.getMessage(), e);
            }
            return stream.image(digest);
        }
        // The reader blocks in open() until Jib opens the pipe, reads to the tar's end marker, then drains to EOF so
        // Jib's last writes never meet a closed pipe. If the reader fails, its close makes Jib's next write fail.
        CompletableFuture<Void> reading = CompletableFuture.runAsync(() -> {
            try (InputStream in = Files.newInputStream(pipe)) {
                stream.read(in);
                in.transferTo(java.io.OutputStream.nullOutputStream());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, READERS);
        try {
            digest = containerize(plan, content, Containerizer.to(tar), work).getDigest().toString();
            reading.get(5, TimeUnit.MINUTES);
        } catch (RuntimeException e) {
            // Jib failed, maybe before opening the pipe: a writer that opens and closes at once lets the reader's
            // open() return and its read end; opening for reading and writing never waits.
            for (int attempt = 0; attempt < 30 && !reading.isDone(); attempt++) {
                try (FileChannel unblock = FileChannel.open(pipe, StandardOpenOption.READ,
                        StandardOpenOption.WRITE)) {
                    unblock.size();
                } catch (IOException ignored) {
                    // the reader is gone already
                }
                try {
                    reading.get(1, TimeUnit.SECONDS);
                } catch (ExecutionException | TimeoutException | RuntimeException ignored) {
                    // Jib's failure is the one to report
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw StageException.transientFailure(ImageBuilderFailure.IMAGE_BUILD_FAILED, "interrupted", e);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            throw StageException.transientFailure(ImageBuilderFailure.IMAGE_BUILD_FAILED, "cannot read Jib's image "
                    + "tarball: " + cause.getClass().getSimpleName() + " " + cause.getMessage(), cause);
        }
        return stream.image(digest);
    }

    /** Creates a named pipe; false where the system has none. */
    private static boolean makePipe(Path pipe) {
        try {
            Process process = new ProcessBuilder("mkfifo", "-m", "600", pipe.toString()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return process.waitFor(10, TimeUnit.SECONDS) && process.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
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
