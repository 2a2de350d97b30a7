package dev.conveyor.versioner.service;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.transport.RefSpec;

import dev.conveyor.events.v1.Artifact;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.PushRace;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.stage.warmup.WarmUp;
import dev.conveyor.versioner.client.TagPublisher;

/**
 * The versioner's warm-up: a CD run of the real {@link VersionService} against a bare repository it makes in the
 * scratch directory and reaches over {@code file://} (mirror fetch, tags and commits read, {@code .conveyor.yaml}
 * parsed, version worked out, annotated tag created and pushed: into that scratch repository only). Its own mirrors,
 * its own unrestricted git access (the URL is its own), no event, no metric, no run log line.
 */
public final class VersionerWarmUp implements WarmUp {

    private static final String EXPECTED = "0.2.0";

    private final VersionService service;
    private final GitAccess access;

    /** @param access the service's git access before the outbound policy (the warm-up dials only its own file:// URL) */
    public VersionerWarmUp(VersionService service, GitAccess access) {
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
            PersonIdent who = new PersonIdent("warm-up", "warm-up@conveyor.invalid", Instant.EPOCH, ZoneOffset.UTC);
            Files.writeString(dir.resolve(".conveyor.yaml"), "version:\n  strategy: tags\n  tagPrefix: v\n");
            work.add().addFilepattern(".conveyor.yaml").call();
            work.commit().setMessage("chore: first").setAuthor(who).setCommitter(who).call();
            work.tag().setName("v0.1.0").setAnnotated(false).call();
            Files.writeString(dir.resolve("app.txt"), "warm-up\n");
            work.add().addFilepattern("app.txt").call();
            RevCommit feat = work.commit().setMessage("feat: warm-up").setAuthor(who).setCommitter(who).call();
            head = feat.name();
            work.push().setRemote(url).setRefSpecs(new RefSpec("refs/heads/main:refs/heads/main"),
                    new RefSpec("refs/tags/v0.1.0:refs/tags/v0.1.0")).call();
        }
        VersionService local = service.with(new PushRace(new RepoMirrors(scratch.resolve("mirrors"), access),
                new Backoff(1, Duration.ofMillis(10), Duration.ofMillis(10))), new TagPublisher(access));
        PipelineRun run = PipelineRun.start("warm-up", url, head, "main", null, Flow.CD);
        BuildSucceeded build = new BuildSucceeded(run, Instant.now(), null, "file:///warm-up",
                new Artifact("file:///warm-up.jar", "0".repeat(64), null, null), null, null);
        VersionResolved resolved = local.resolveQuietly(build, null);
        if (!resolved.taggedNow() || !EXPECTED.equals(resolved.version())) {
            throw new IllegalStateException("the warm-up resolved " + resolved.version() + " (tagged "
                    + resolved.taggedNow() + "), expected " + EXPECTED + " tagged");
        }
    }

}
