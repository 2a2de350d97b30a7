package dev.conveyor.promoter.service;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.transport.RefSpec;

import dev.conveyor.events.v1.ChartPublished;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.PromotionMode;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.promoter.client.GitCommitter;
import dev.conveyor.promoter.client.GitIndexChartRepository;
import dev.conveyor.promoter.domain.PromotionTarget;
import dev.conveyor.promoter.domain.ReleaseKind;
import dev.conveyor.promoter.domain.TargetRule;
import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.PushRace;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.stage.warmup.WarmUp;

/**
 * The promoter's warm-up: a CD run of the real {@link PromotionService} on a throw-away app in the scratch directory,
 * with three bare repositories there reached over {@code file://}: the app's (chart checked out), a git chart
 * repository ({@code helm package} in the JVM, {@code index.yaml} updated, committed and pushed) and a GitOps repository
 * (chart and release written, committed and pushed). No OCI registry, chart server or GitHub is dialled; no event, no
 * metric, no run log line.
 */
public final class PromoterWarmUp implements WarmUp {

    private static final Map<String, String> CHART = Map.of("chart/Chart.yaml",
            "apiVersion: v2\nname: warm-up\nversion: 0.1.0\nappVersion: \"0.1.0\"\n", "chart/values.yaml",
            "image:\n  repository: registry.invalid/warm-up\n  tag: \"0.1.0\"\n", "chart/templates/configmap.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n"
                    + "  image: {{ .Values.image.repository }}:{{ .Values.image.tag }}\n");

    private final PromotionService service;
    private final GitAccess access;
    private final String committerName;
    private final String committerEmail;

    /** @param access the service's git access before the outbound policy (the warm-up dials only its own file:// URLs) */
    public PromoterWarmUp(PromotionService service, GitAccess access, String committerName, String committerEmail) {
        this.service = service;
        this.access = access;
        this.committerName = committerName;
        this.committerEmail = committerEmail;
    }

    @Override
    public void run(Path scratch) throws Exception {
        PersonIdent who = new PersonIdent("warm-up", "warm-up@conveyor.invalid", Instant.EPOCH, ZoneOffset.UTC);
        String app = bareWith(scratch, "app", CHART, who);
        String charts = bareWith(scratch, "charts", Map.of("README.md", "charts\n"), who);
        String gitops = bareWith(scratch, "gitops", Map.of("README.md", "gitops\n"), who);
        String head;
        try (Git git = Git.open(scratch.resolve("app").toFile())) {
            head = git.getRepository().resolve("HEAD").name();
        }

        RepoMirrors mirrors = new RepoMirrors(scratch.resolve("mirrors"), access);
        GitCommitter committer = new GitCommitter(new PushRace(mirrors, new Backoff(1, Duration.ofMillis(10), Duration
                .ofMillis(10))), mirrors, access, committerName, committerEmail);
        PromotionTarget target = new PromotionTarget(gitops, "main", "warm-up", "warm-up", "warm-up",
                PromotionMode.AUTO, ReleaseKind.FLUX_HELM_RELEASE);
        PromotionService.Settings settings = new PromotionService.Settings(List.of(new ChartRepositoryRule(
                // The index's public address is only written into index.yaml, never dialled.
                new GitIndexChartRepository("warm-up", "https://charts.invalid/warm-up", charts, "main", "",
                        committer, Clock.systemUTC()),
                List.of(), List.of())), List.of(new TargetRule("warm-up", target, List.of(), List.of())), Set.of(
                        gitops),
                "main", "charts", Files.createDirectories(scratch.resolve("work")));
        PromotionService local = service.quietWith(mirrors, committer, settings);

        ManifestsValidated input = new ManifestsValidated(PipelineRun.start("warm-up", app, head, "main", null,
                Flow.CD), Instant.now(), null, "0.1.0", "registry.invalid/warm-up", "sha256:" + "0".repeat(64),
                "warm-up", "chart", head, 1, "sha256:" + "0".repeat(64), null, 0);
        List<ConveyorEvent> out = local.promote(input, null);
        if (out.size() != 2 || !(out.get(0) instanceof ChartPublished published) || published.repositories()
                .size() != 1 || !(out.get(1) instanceof ReleasePromoted)) {
            throw new IllegalStateException("the warm-up promotion made " + out.size() + " event(s), expected a "
                    + "published chart and one promotion");
        }
    }

    /** A bare repository {@code <name>.git} whose main branch holds {@code files}, and a clone in {@code <name>}. */
    private static String bareWith(Path scratch, String name, Map<String, String> files, PersonIdent who)
            throws Exception {
        Path bare = scratch.resolve(name + ".git");
        String url = bare.toUri().toString();
        Git.init().setBare(true).setInitialBranch("main").setDirectory(bare.toFile()).call().close();
        try (Git work = Git.init().setInitialBranch("main").setDirectory(scratch.resolve(name).toFile()).call()) {
            Path dir = work.getRepository().getWorkTree().toPath();
            for (Map.Entry<String, String> file : files.entrySet()) {
                Path target = dir.resolve(file.getKey());
                Files.createDirectories(target.getParent());
                Files.writeString(target, file.getValue());
                work.add().addFilepattern(file.getKey()).call();
            }
            work.commit().setMessage("init").setAuthor(who).setCommitter(who).call();
            work.push().setRemote(url).setRefSpecs(new RefSpec("refs/heads/main:refs/heads/main")).call();
        }
        return url;
    }

}
