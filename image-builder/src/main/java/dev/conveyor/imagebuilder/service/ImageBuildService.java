package dev.conveyor.imagebuilder.service;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.jboss.logging.Logger;

import com.google.cloud.tools.jib.api.ImageReference;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import com.google.cloud.tools.jib.api.buildplan.FilePermissions;

import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.imagebuilder.client.AppSources;
import dev.conveyor.imagebuilder.client.ArtifactFetcher;
import dev.conveyor.imagebuilder.client.ArtifactUnpacker;
import dev.conveyor.imagebuilder.client.BuiltImage;
import dev.conveyor.imagebuilder.client.ImageContent;
import dev.conveyor.imagebuilder.client.JibImages;
import dev.conveyor.imagebuilder.client.OciLayout;
import dev.conveyor.imagebuilder.client.RegistryApi;
import dev.conveyor.imagebuilder.client.RegistryCredentials;
import dev.conveyor.imagebuilder.domain.ArtifactKind;
import dev.conveyor.imagebuilder.domain.ImageDefaults;
import dev.conveyor.imagebuilder.domain.ImagePlan;
import dev.conveyor.imagebuilder.domain.ImageSettings;
import dev.conveyor.imagebuilder.domain.JarLayout;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.config.InvalidConfigException;
import dev.conveyor.stage.net.OutboundPolicy;

/**
 * The image builder's stage logic: read the app's image settings at the commit, check the base image and what the
 * target repository already holds, fetch and verify the artifact, build the image with Jib and push it under the
 * version tag, the short commit and (CD, when configured) {@code latest}.
 *
 * <p>
 * Safe to run again on the same event: when the version tag exists, the image's digest is computed without pushing; the
 * same digest means nothing is pushed (missing extra tags are pointed at it), and a different digest under a release
 * tag is refused, because releases are immutable. The work directory with the artifact is deleted on every path.
 */
public final class ImageBuildService {

    /**
     * What a run did: the event to emit, whether anything was pushed, and how long each phase took (ms, in order; the
     * map is completed with {@code cleanup} when {@code build} returns), for the debug log and the benchmark.
     */
    public record Result(ImagePushed event, boolean pushed, Map<String, Long> phaseMillis) {
    }

    /** Wall-clock time per phase of one build. */
    private static final class Phases {
        final Map<String, Long> millis = java.util.Collections.synchronizedMap(new java.util.LinkedHashMap<>());
        long since = System.nanoTime();

        void start() {
            since = System.nanoTime();
        }

        void end(String phase) {
            long now = System.nanoTime();
            millis.merge(phase, (now - since) / 1_000_000, Long::sum);
            since = now;
        }
    }

    private static final Logger LOG = Logger.getLogger(ImageBuildService.class);
    /** Under the work directory: dependency jars by content, kept between builds (see ArtifactUnpacker). */
    static final String DEPENDENCY_STORE = "dependency-store";

    private final OutboundPolicy outbound;
    private final AppSources sources;
    private final ArtifactFetcher fetcher;
    private final ArtifactUnpacker unpacker;
    private final JibImages images;
    private final RegistryApi registries;
    private final ImageDefaults defaults;
    private final Path workRoot;
    private final Clock clock;
    private final boolean jibPush;

    /** @param outbound the policy a base image named in {@code .conveyor.yaml} must pass (its registry, or its file) */
    public ImageBuildService(AppSources sources, ArtifactFetcher fetcher, ArtifactUnpacker unpacker, JibImages images,
            RegistryApi registries, ImageDefaults defaults, Path workRoot, Clock clock, OutboundPolicy outbound) {
        this(sources, fetcher, unpacker, images, registries, defaults, workRoot, clock, outbound, false);
    }

    /**
     * @param jibPush push with Jib's own registry client as before (kept to compare digests and timings with in tests
     *     and the benchmark) instead of building with Jib and pushing with {@link RegistryApi}
     */
    public ImageBuildService(AppSources sources, ArtifactFetcher fetcher, ArtifactUnpacker unpacker, JibImages images,
            RegistryApi registries, ImageDefaults defaults, Path workRoot, Clock clock, OutboundPolicy outbound,
            boolean jibPush) {
        this.jibPush = jibPush;
        this.outbound = outbound;
        this.sources = sources;
        this.fetcher = fetcher;
        this.unpacker = unpacker;
        this.images = images;
        this.registries = registries;
        this.defaults = defaults;
        this.workRoot = workRoot;
        this.clock = clock;
    }

    /** Builds and pushes the run's image; failures are classified {@link StageException}s. */
    public Result build(VersionResolved version, String causationId) {
        Result result = buildQuietly(version, causationId);
        ImagePushed image = result.event();
        PipelineRun run = version.run();
        LOG.infof("[image-builder] %s run %s: %s %s@%s (%s, %d bytes)", run.app(), run.runId(), result.pushed()
                ? "pushed"
                : "already present, skipped", image.repository(), image.digest(), image.tags(), image.sizeBytes());
        return result;
    }

    /**
     * {@link #build} without the run's log line: the warm-up ({@code ImageBuilderWarmUp}) runs the same path on a
     * throw-away input, which must not show up as a run.
     */
    Result buildQuietly(VersionResolved version, String causationId) {
        PipelineRun run = version.run();
        Phases phases = new Phases();
        AppSources.AtCommit source = sources.read(run.repoUrl(), run.commit());
        ImageSettings settings;
        ImagePlan plan;
        try {
            settings = source.conveyorYaml().map(text -> ImageSettings.parse(text, run.app()))
                    .orElse(ImageSettings.defaults());
            plan = ImagePlan.of(run, version.version(), version.artifact().kind(), source.commitTime(), settings,
                    defaults);
        } catch (InvalidConfigException e) {
            throw StageException.terminal(ImageBuilderFailure.INVALID_CONFIG, e.getMessage(), Map.of("field",
                    e.field()));
        }
        if (plan.kind() == ArtifactKind.DIRECTORY && settings.entrypoint().isEmpty()) {
            throw StageException.terminal(ImageBuilderFailure.INVALID_CONFIG, "image.entrypoint is required for "
                    + "directory apps in .conveyor.yaml", Map.of("field", "image.entrypoint"));
        }

        // Cheap checks first: nothing is downloaded for a run that cannot push.
        String baseImage = plan.baseImage();
        if (settings.base().isPresent()) {
            // Named by the repository, not the platform: its registry (or file) must pass the outbound policy.
            outbound.checkConnect("image.base", JibImages.isArchive(baseImage)
                    ? JibImages.archivePath(baseImage).toUri().toString()
                    : "https://" + JibImages.reference(baseImage).getRegistry() + "/");
        }
        String baseDigest;
        if (JibImages.isArchive(baseImage)) {
            baseDigest = archiveDigest(baseImage);
        } else {
            ImageReference base = JibImages.reference(baseImage);
            baseDigest = registries.digest(base.getRegistry(), base.getRepository(), base.getQualifier())
                    .orElseThrow(() -> StageException.terminal(ImageBuilderFailure.BASE_IMAGE_NOT_FOUND, "base image "
                            + baseImage + " does not exist in " + base.getRegistry(),
                            Map.of("baseImage",
                                    baseImage)));
        }
        phases.end("source+base");
        plan = plan.withBaseDigest(baseDigest);
        Optional<OciLayout> layout = OciLayout.forRegistry(plan.registry());
        Optional<String> existing = layout.isPresent()
                ? layout.get().digest(OciLayout.refName(plan.repository(), plan.versionTag()))
                : registries.digest(plan.registry(), plan.repository(), plan.versionTag());

        phases.end("target-tag");
        Path work = null;
        Path staging = null;
        try {
            Files.createDirectories(workRoot.resolve("builds"));
            work = Files.createTempDirectory(workRoot.resolve("builds"), "build-");
            // A stable place per repository, so Jib's layer cache recognises unchanged files from the last build.
            staging = workRoot.resolve("staging").resolve(stagingKey(plan.fullRepository()));
            deleteQuietly(staging);
            Path artifact = fetcher.fetch(version.artifact(), work);
            phases.end("fetch");
            ImageContent content = content(plan, settings, artifact, staging);
            phases.end("unpack");
            String digest;
            boolean pushed;
            List<String> tags = plan.tags();
            // Built once, by Jib, and pushed by RegistryApi: what both the digest check and the push need.
            BuiltImage built = null;
            if (existing.isPresent()) {
                if (layout.isEmpty() && !jibPush) {
                    built = images.build(plan, content, work);
                    digest = built.digest();
                } else {
                    digest = images.digest(plan, content, work);
                }
                phases.end("build");
                if (!digest.equals(existing.get())) {
                    if (plan.immutable()) {
                        throw StageException.terminal(ImageBuilderFailure.IMMUTABLE_TAG, "release tag "
                                + plan.reference(plan.versionTag()) + " already names " + existing.get()
                                + " and this build makes " + digest + "; releases are never overwritten",
                                Map.of("tag", plan.versionTag(), "existing", existing.get(), "built", digest));
                    }
                    built = push(plan, content, work, layout, built, phases);
                    digest = built.digest();
                    pushed = true;
                } else {
                    tags = layout.isPresent() ? alignTags(layout.get(), plan, digest) : alignTags(plan, digest);
                    pushed = false;
                    phases.end("tags");
                }
            } else {
                built = push(plan, content, work, layout, null, phases);
                digest = built.digest();
                pushed = true;
            }
            long size;
            if (layout.isPresent()) {
                size = layout.get().imageSize(digest);
            } else if (built != null && built.manifest() != null) {
                // The manifest the registry accepted under this digest (it checks the digest of what it stores).
                size = built.size();
            } else {
                size = registries.imageSize(plan.registry(), plan.repository(), digest);
            }
            phases.end("size");
            return new Result(new ImagePushed(run, clock.instant(), causationId, version.version(), plan
                    .fullRepository(), tags, digest, size), pushed, phases.millis);
        } catch (IOException e) {
            throw StageException.transientFailure(ImageBuilderFailure.IMAGE_BUILD_FAILED, "cannot prepare the work "
                    + "directory: " + e.getMessage(), e);
        } finally {
            phases.start();
            deleteQuietly(work);
            deleteQuietly(staging);
            phases.end("cleanup");
            LOG.debugf("[image-builder] %s run %s: phases (ms) %s", run.app(), run.runId(), phases.millis);
        }
    }

    /**
     * Pushes under every tag of the plan, to the registry or into the OCI layout. Returns the image, whose manifest is
     * null where Jib pushed or wrote it (only its digest is known then).
     */
    private BuiltImage push(ImagePlan plan, ImageContent content, Path work, Optional<OciLayout> layout,
            BuiltImage built, Phases phases) {
        if (layout.isEmpty() && jibPush) {
            String digest = images.push(plan, content, work);
            phases.end("jib-push");
            return new BuiltImage(digest, null, null, null, List.of());
        }
        if (layout.isEmpty()) {
            BuiltImage image = built != null ? built : images.build(plan, content, work);
            phases.end("build");
            registries.push(plan.registry(), plan.repository(), image, plan.tags(), mountFrom(plan));
            phases.end("push");
            return image;
        }
        JibImages.Tarball tarball = images.tarball(plan, content, work);
        List<String> refs = plan.tags().stream().map(tag -> OciLayout.refName(plan.repository(), tag)).toList();
        String digest = layout.get().add(tarball.file(), refs.get(0), plan.immutable(), refs);
        if (!digest.equals(tarball.digest())) {
            throw StageException.transientFailure(ImageBuilderFailure.IMAGE_BUILD_FAILED, "Jib reported "
                    + tarball.digest() + " but its image tarball holds " + digest, null);
        }
        phases.end("layout");
        return new BuiltImage(digest, null, null, null, List.of());
    }

    /** The base image's repository when it lives in the target registry: its layers can be mounted, not uploaded. */
    private static Optional<String> mountFrom(ImagePlan plan) {
        if (JibImages.isArchive(plan.baseImage())) {
            return Optional.empty();
        }
        ImageReference base = JibImages.reference(plan.baseImage());
        return RegistryCredentials.normalize(base.getRegistry()).equals(RegistryCredentials.normalize(plan
                .registry())) ? Optional.of(base.getRepository()) : Optional.empty();
    }

    /** {@link #alignTags(ImagePlan, String)} for an OCI layout: missing tags become index entries. */
    private static List<String> alignTags(OciLayout layout, ImagePlan plan, String digest) {
        List<String> naming = new ArrayList<>(List.of(plan.versionTag()));
        for (String tag : plan.tags().subList(1, plan.tags().size())) {
            if (layout.tagIfAbsent(OciLayout.refName(plan.repository(), tag), digest)) {
                naming.add(tag);
            } else {
                LOG.infof("[image-builder] %s: tag %s names another image, left as it is", plan.fullRepository(),
                        tag);
            }
        }
        return naming;
    }

    /**
     * The sha256 of a {@code docker-archive:<path>} base: pinned in the base digest label the way a registry base's
     * manifest digest is.
     */
    private static String archiveDigest(String baseImage) {
        Path tar = JibImages.archivePath(baseImage);
        if (!tar.isAbsolute() || !Files.isRegularFile(tar)) {
            throw StageException.terminal(ImageBuilderFailure.BASE_IMAGE_NOT_FOUND, "base image " + baseImage
                    + " is not an absolute path to an existing tarball", Map.of("baseImage", baseImage));
        }
        try (var in = Files.newInputStream(tar)) {
            java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[64 * 1024];
            for (int n; (n = in.read(buffer)) > 0;) {
                sha.update(buffer, 0, n);
            }
            return "sha256:" + java.util.HexFormat.of().formatHex(sha.digest());
        } catch (IOException e) {
            throw StageException.transientFailure(ImageBuilderFailure.IMAGE_BUILD_FAILED, "cannot read base image "
                    + baseImage + ": " + e.getMessage(), e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Creates the extra tags that do not exist yet, pointing them at {@code digest} without pushing blobs, and returns
     * the tags that name the image. Tags that already name another image are left alone: a replay of an older release
     * must not move {@code latest} back.
     */
    private List<String> alignTags(ImagePlan plan, String digest) {
        List<String> naming = new ArrayList<>(List.of(plan.versionTag()));
        RegistryApi.Manifest manifest = null;
        for (String tag : plan.tags().subList(1, plan.tags().size())) {
            Optional<String> current = registries.digest(plan.registry(), plan.repository(), tag);
            if (current.isEmpty()) {
                if (manifest == null) {
                    manifest = registries.manifest(plan.registry(), plan.repository(), digest).orElseThrow(
                            () -> StageException.transientFailure(ImageBuilderFailure.REGISTRY_UNAVAILABLE, "registry "
                                    + plan.registry() + " lost " + plan.repository() + "@" + digest, null));
                }
                registries.putManifest(plan.registry(), plan.repository(), tag, manifest);
                naming.add(tag);
            } else if (current.get().equals(digest)) {
                naming.add(tag);
            } else {
                LOG.infof("[image-builder] %s: tag %s names another image, left as it is", plan.fullRepository(),
                        tag);
            }
        }
        return naming;
    }

    private ImageContent content(ImagePlan plan, ImageSettings settings, Path artifact, Path into) {
        String workdir = settings.workdir().orElse(JarLayout.APP_DIR);
        List<FileEntriesLayer> layers = new ArrayList<>();
        List<String> entrypoint = settings.entrypoint();
        if (plan.kind() == ArtifactKind.JAR) {
            ArtifactUnpacker.ExplodedJar jar = unpacker.explodeJar(artifact, into, workRoot.resolve(DEPENDENCY_STORE));
            FileEntriesLayer.Builder dependencies = FileEntriesLayer.builder().setName("dependencies");
            FileEntriesLayer.Builder application = FileEntriesLayer.builder().setName("application");
            for (ArtifactUnpacker.UnpackedFile file : jar.files()) {
                (JarLayout.isDependency(file.name()) ? dependencies : application).addEntry(file.file(),
                        AbsoluteUnixPath.get(workdir).resolve(file.name()), FilePermissions.DEFAULT_FILE_PERMISSIONS);
            }
            layers.add(dependencies.build());
            layers.add(application.build());
            if (entrypoint.isEmpty()) {
                try {
                    entrypoint = JarLayout.entrypoint(workdir, jar.names(), jar.mainClass());
                } catch (IllegalArgumentException e) {
                    throw StageException.terminal(ImageBuilderFailure.ARTIFACT_INVALID, e.getMessage(), Map.of(
                            "field", "image.entrypoint"));
                }
            }
        } else {
            FileEntriesLayer.Builder application = FileEntriesLayer.builder().setName("application");
            for (ArtifactUnpacker.UnpackedFile file : unpacker.unpackTar(artifact, into)) {
                int mode = file.mode() == 0 ? 0644 : file.mode();
                application.addEntry(file.file(), AbsoluteUnixPath.get(workdir).resolve(file.name()),
                        FilePermissions.fromOctalString(String.format("%03o", mode)));
            }
            layers.add(application.build());
        }
        return new ImageContent(layers, entrypoint, settings.args(), settings.env(), settings.ports(), settings
                .user(), workdir);
    }

    private static String stagingKey(String repository) {
        try {
            byte[] hash = java.security.MessageDigest.getInstance("SHA-256").digest(repository.getBytes(
                    java.nio.charset.StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(hash, 0, 16);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.warnf("[image-builder] could not delete work directory %s: %s", dir, e.getMessage());
        }
    }
}
