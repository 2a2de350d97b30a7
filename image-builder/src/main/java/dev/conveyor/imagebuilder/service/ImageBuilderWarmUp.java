package dev.conveyor.imagebuilder.service;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Function;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.PersonIdent;

import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.TarImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import com.google.cloud.tools.jib.api.buildplan.FilePermissions;

import dev.conveyor.events.v1.Artifact;
import dev.conveyor.events.v1.BumpReason;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.imagebuilder.client.JibImages;
import dev.conveyor.stage.warmup.WarmUp;

/**
 * The image builder's warm-up: a CD run of the real {@link ImageBuildService} on a throw-away app in the scratch
 * directory: its repository read over {@code file://}, a small jar fetched from a {@code file:} URL, checked and
 * unpacked, an image built by Jib on a base image it made itself ({@code docker-archive:}) and written into an OCI image
 * layout there. No registry is dialled; no event, no metric, no run log line.
 */
public final class ImageBuilderWarmUp implements WarmUp {

    /** The image target the scratch service must be given, under the scratch directory. */
    public static final String LAYOUT = "layout";
    /** The base image tarball the scratch service must be given, under the scratch directory. */
    public static final String BASE_TAR = "base.tar";

    private final Function<Path, ImageBuildService> scratchService;

    /**
     * @param scratchService the service wired like the real one, with its mirrors, caches and work directory under the
     *     given scratch directory, the registry {@code oci-layout:<scratch>/}{@value #LAYOUT}, the base image
     *     {@code docker-archive:<scratch>/}{@value #BASE_TAR} and {@code file:} artifacts allowed from the scratch
     *     directory only
     */
    public ImageBuilderWarmUp(Function<Path, ImageBuildService> scratchService) {
        this.scratchService = scratchService;
    }

    @Override
    public void run(Path scratch) throws Exception {
        Path base = scratch.resolve(BASE_TAR);
        Path baseFiles = Files.createDirectories(scratch.resolve("base-files"));
        Files.writeString(baseFiles.resolve("os-release"), "NAME=warm-up\n");
        Jib.fromScratch().addFileEntriesLayer(FileEntriesLayer.builder().setName("base").addEntry(baseFiles.resolve(
                "os-release"), AbsoluteUnixPath.get("/etc/os-release"), FilePermissions.fromOctalString("644"))
                .build()).setUser("65532:65532").containerize(Containerizer
                        .to(TarImage.at(base).named(
                                JibImages.reference("warm-up/base:1")))
                        .setBaseImageLayersCache(scratch.resolve(
                                "base-files-cache"))
                        .setApplicationLayersCache(scratch.resolve("base-files-cache")));

        Path jar = scratch.resolve("app.jar");
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "warmup.Main");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, manifest)) {
            j.putNextEntry(new JarEntry("warmup/Main.class"));
            j.write("not a real class".getBytes(StandardCharsets.UTF_8));
            j.closeEntry();
        }
        String sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(jar)));

        Path repo = scratch.resolve("app");
        String head;
        try (Git git = Git.init().setInitialBranch("main").setDirectory(repo.toFile()).call()) {
            Files.writeString(repo.resolve("README.md"), "warm-up\n");
            git.add().addFilepattern("README.md").call();
            PersonIdent who = new PersonIdent("warm-up", "warm-up@conveyor.invalid", Instant.EPOCH, ZoneOffset.UTC);
            head = git.commit().setMessage("feat: warm-up").setAuthor(who).setCommitter(who).call().name();
        }

        PipelineRun run = PipelineRun.start("warm-up", repo.toUri().toString(), head, "main", null, Flow.CD);
        VersionResolved version = new VersionResolved(run, Instant.now(), null, "0.1.0", "v0.1.0", true, null,
                BumpReason.INITIAL, List.of(), new Artifact(jar.toUri().toString(), sha256, Files.size(jar), "jar"));
        ImageBuildService.Result result = scratchService.apply(scratch).buildQuietly(version, null);
        if (!result.pushed() || !Files.exists(scratch.resolve(LAYOUT).resolve("index.json"))) {
            throw new IllegalStateException("the warm-up image is not in its layout: " + result.event().repository());
        }
    }

}
