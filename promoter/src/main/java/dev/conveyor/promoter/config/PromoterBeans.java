package dev.conveyor.promoter.config;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.promoter.client.ChartMuseumRepository;
import dev.conveyor.promoter.client.ChartPackager;
import dev.conveyor.promoter.client.ChartRepository;
import dev.conveyor.promoter.client.GitCommitter;
import dev.conveyor.promoter.client.GitHubPullRequests;
import dev.conveyor.promoter.client.GitIndexChartRepository;
import dev.conveyor.promoter.client.OciChartRepository;
import dev.conveyor.promoter.domain.PromotionTarget;
import dev.conveyor.promoter.domain.TargetRule;
import dev.conveyor.promoter.domain.Targets;
import dev.conveyor.promoter.service.ChartRepositoryRule;
import dev.conveyor.promoter.service.PromoterWarmUp;
import dev.conveyor.promoter.service.PromotionService;
import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.StageMetrics;
import dev.conveyor.stage.StageRunner;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.PushRace;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.stage.messaging.StageEdge;
import dev.conveyor.stage.net.OutboundPolicy;
import dev.conveyor.stage.warmup.WarmUp;
import io.micrometer.core.instrument.MeterRegistry;

/** Wires the plain stage classes from configuration; a bad setting fails the start with the key's name. */
@ApplicationScoped
public class PromoterBeans {

    @Produces
    @ApplicationScoped
    PromotionService promotionService(PromoterConfig config, GitAccess shared, OutboundPolicy outbound)
            throws IOException {
        java.nio.file.Files.createDirectories(config.mirrorDir());
        // App repositories come from events, GitOps repositories from .conveyor.yaml (or configuration): both are
        // dialled only if the outbound policy allows them, and a refusal names where the URL came from.
        GitAccess gitops = shared.restrictedTo(outbound, "gitopsRepo");
        RepoMirrors mirrors = new RepoMirrors(config.mirrorDir(), gitops);
        RepoMirrors apps = mirrors.through(shared.restrictedTo(outbound, "repoUrl"));
        PushRace race = new PushRace(mirrors, new Backoff(config.pushAttempts(), config.pushJitter(), Duration
                .ofSeconds(5)));
        GitCommitter committer = new GitCommitter(race, mirrors, gitops, config.committer().name(), config.committer()
                .email());
        return new PromotionService(apps, new ChartPackager(), committer, new GitHubPullRequests(config.github()
                .apiUrl(), config.github().token()), settings(config, committer, outbound), Clock.systemUTC());
    }

    /** The service's settings from configuration. */
    public static PromotionService.Settings settings(PromoterConfig config, GitCommitter committer,
            OutboundPolicy outbound) {
        List<ChartRepositoryRule> repositories = new ArrayList<>();
        for (Map.Entry<String, PromoterConfig.ChartRepo> e : new java.util.TreeMap<>(config.chartRepositories())
                .entrySet()) {
            repositories.add(new ChartRepositoryRule(repository(e.getKey(), e.getValue(), committer, outbound), e
                    .getValue()
                    .apps().orElse(List.of()), e.getValue().charts().orElse(List.of())));
        }
        List<TargetRule> targets = new ArrayList<>();
        for (Map.Entry<String, PromoterConfig.Target> e : new java.util.TreeMap<>(config.targets()).entrySet()) {
            PromoterConfig.Target t = e.getValue();
            String where = "conveyor.promoter.targets." + e.getKey();
            PromotionTarget target = new PromotionTarget(t.gitopsRepo(), t.branch(), t.environment(), t.namespace(),
                    t.release().orElse(null), Targets.mode(t.mode(), where + ".mode"), Targets.kind(t.kind(),
                            where + ".kind"));
            targets.add(new TargetRule(e.getKey(), target, t.apps().orElse(List.of()), t.charts().orElse(List
                    .of())));
        }
        Set<String> known = new HashSet<>(config.allowedGitopsRepos().orElse(List.of()));
        return new PromotionService.Settings(repositories, targets, known, config.defaultBranch(), config
                .fluxV2Source(), config.workDir());
    }

    private static ChartRepository repository(String id, PromoterConfig.ChartRepo repo, GitCommitter committer,
            OutboundPolicy outbound) {
        return switch (repo.type()) {
            case "oci" -> new OciChartRepository(id, repo.url(), repo.plainHttp(), repo.username(), repo.password(),
                    outbound);
            case "git" -> new GitIndexChartRepository(id, repo.url(), repo.gitRepo().orElseThrow(
                    () -> new IllegalArgumentException("conveyor.promoter.chart-repositories." + id
                            + ".git-repo is required for type git")),
                    repo.branch(), repo.path().orElse(""), committer, Clock.systemUTC());
            case "chartmuseum" -> new ChartMuseumRepository(id, repo.url(), repo.username(), repo.password());
            default -> throw new IllegalArgumentException("conveyor.promoter.chart-repositories." + id
                    + ".type must be oci, git or chartmuseum, not " + repo.type());
        };
    }

    /** Run once after start by stage-support's {@code WarmUpStarter} ({@code conveyor.warm-up.enabled}). */
    @Produces
    @ApplicationScoped
    WarmUp warmUp(PromotionService service, GitAccess shared, PromoterConfig config) {
        return new PromoterWarmUp(service, shared, config.committer().name(), config.committer().email());
    }

    @Produces
    @ApplicationScoped
    StageRunner stageRunner(PromoterConfig config, MeterRegistry registry) {
        return new StageRunner(Stage.PROMOTER, config.retry().backoff(), new StageMetrics(registry, Stage.PROMOTER));
    }

    /** The Kafka edge: the runner, and one emitter for every topic the stage emits to. */
    @Produces
    @ApplicationScoped
    StageEdge stageEdge(StageRunner runner, @Channel(StageEdge.CHANNEL) Emitter<ConveyorEvent> events) {
        return new StageEdge(runner, events);
    }
}
