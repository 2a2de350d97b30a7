package dev.conveyor.manifests.service;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.transport.RefSpec;

import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.manifests.client.ManifestsCommitter;
import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.PushRace;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.stage.warmup.WarmUp;

/**
 * The manifest renderer's warm-up: a CD run of the real {@link RenderService} on a small chart shipped in this jar
 * ({@code dev/conveyor/manifests/warmup/chart}), put in a bare repository in the scratch directory and reached over
 * {@code file://}: mirror fetch, chart copied out, {@code helm lint} and {@code helm template} in the JVM, the bundled
 * schemas of the service's Kubernetes version loaded (they stay cached for the real runs), every object validated,
 * Secrets redacted, the manifests committed and pushed: into that scratch repository only. No event, no metric, no run
 * log line.
 */
public final class RendererWarmUp implements WarmUp {

    private static final String CHART = "dev/conveyor/manifests/warmup/chart/";
    private static final List<String> CHART_FILES = List.of("Chart.yaml", "values.yaml", "templates/deployment.yaml",
            "templates/service.yaml", "templates/configmap.yaml");
    /** A Deployment, a Service and a ConfigMap. */
    private static final int OBJECTS = 3;

    private final RenderService service;
    private final GitAccess access;

    /** @param access the service's git access before the outbound policy (the warm-up dials only its own file:// URL) */
    public RendererWarmUp(RenderService service, GitAccess access) {
        this.service = service;
        this.access = access;
    }

    @Override
    public void run(Path scratch) throws Exception {
        Path origin = scratch.resolve("origin.git");
        String url = origin.toUri().toString();
        Git.init().setBare(true).setInitialBranch("main").setDirectory(origin.toFile()).call().close();
        String head;
        try (Git work = Git.init().setInitialBranch("main").setDirectory(scratch.resolve("work").toFile()).call()) {
            Path dir = work.getRepository().getWorkTree().toPath();
            for (String file : CHART_FILES) {
                Path target = dir.resolve("chart").resolve(file);
                Files.createDirectories(target.getParent());
                Files.write(target, resource(file));
            }
            work.add().addFilepattern("chart").call();
            PersonIdent who = new PersonIdent("warm-up", "warm-up@conveyor.invalid", Instant.EPOCH, ZoneOffset.UTC);
            RevCommit commit = work.commit().setMessage("feat: warm-up chart").setAuthor(who).setCommitter(who)
                    .call();
            head = commit.name();
            work.push().setRemote(url).setRefSpecs(new RefSpec("refs/heads/main:refs/heads/main")).call();
        }
        RepoMirrors mirrors = new RepoMirrors(scratch.resolve("mirrors"), access);
        RenderService local = service.with(mirrors, new ManifestsCommitter(access), new PushRace(mirrors, new Backoff(
                1, Duration.ofMillis(10), Duration.ofMillis(10))), Files.createDirectories(scratch.resolve("render")));
        ImagePushed image = new ImagePushed(PipelineRun.start("warm-up", url, head, "main", null, Flow.CD), Instant
                .now(), null, "0.1.0", "registry.invalid/warm-up", List.of("0.1.0"), "sha256:" + "0".repeat(64), 0);
        ManifestsValidated done = local.renderQuietly(image, null);
        if (done.objectCount() != OBJECTS || done.manifestsCommit() == null) {
            throw new IllegalStateException("the warm-up rendered " + done.objectCount() + " objects (commit "
                    + done.manifestsCommit() + "), expected " + OBJECTS + " committed");
        }
    }

    private static byte[] resource(String file) throws IOException {
        try (InputStream in = RendererWarmUp.class.getClassLoader().getResourceAsStream(CHART + file)) {
            if (in == null) {
                throw new IOException("the warm-up chart's " + file + " is not on the class path");
            }
            return in.readAllBytes();
        }
    }

}
