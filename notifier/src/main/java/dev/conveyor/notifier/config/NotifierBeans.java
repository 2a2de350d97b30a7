package dev.conveyor.notifier.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import dev.conveyor.events.v1.Stage;
import dev.conveyor.notifier.client.AppConfigReader;
import dev.conveyor.notifier.client.GitHubClient;
import dev.conveyor.notifier.client.GitLabClient;
import dev.conveyor.notifier.client.HttpCalls;
import dev.conveyor.notifier.client.JiraClient;
import dev.conveyor.notifier.client.SlackClient;
import dev.conveyor.notifier.domain.AppNotifySettings;
import dev.conveyor.notifier.domain.Planner;
import dev.conveyor.notifier.domain.ProviderKind;
import dev.conveyor.notifier.service.MessageTemplates;
import dev.conveyor.notifier.service.NotifierFailure;
import dev.conveyor.notifier.service.NotifierMetrics;
import dev.conveyor.notifier.service.NotifierService;
import dev.conveyor.notifier.service.ProviderWorker;
import dev.conveyor.notifier.service.StateStore;
import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.StageMetrics;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.stage.net.OutboundPolicy;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.qute.Engine;

/**
 * Wires the plain notifier classes from configuration: one HTTP client and one worker per provider that is on. The
 * service is a {@code @Singleton} (no client proxy): it is a plain final class.
 */
@ApplicationScoped
public class NotifierBeans {

    @Produces
    @Singleton
    NotifierService notifierService(NotifierConfig config, Engine engine, MeterRegistry registry, GitAccess git,
            OutboundPolicy outbound) {
        // the state comes from Kafka, partition by partition, as the event consumer is assigned them
        return service(config, engine, registry, Clock.systemUTC(), appSettings(config, git, outbound));
    }

    void closeNotifierService(@Disposes NotifierService service) {
        service.close();
    }

    /** The app's {@code .conveyor.yaml} from a mirror, or nothing when turned off. */
    public static NotifierService.AppSettingsSource appSettings(NotifierConfig config, GitAccess git) {
        if (!config.appConfig().enabled()) {
            return (app, runId, repoUrl, commit) -> AppNotifySettings.none();
        }
        try {
            Files.createDirectories(config.appConfig().mirrorDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + config.appConfig().mirrorDir(), e);
        }
        return new AppConfigReader(new RepoMirrors(config.appConfig().mirrorDir(), git))::read;
    }

    /**
     * {@link #appSettings(NotifierConfig, GitAccess)} with the app repository (it comes from the event) dialled only if
     * the outbound policy allows it.
     */
    public static NotifierService.AppSettingsSource appSettings(NotifierConfig config, GitAccess git,
            OutboundPolicy outbound) {
        return appSettings(config, git.restrictedTo(outbound, "repoUrl"));
    }

    /**
     * Builds the service with one state store for every run, in the journal file of {@code data-dir}: a single process
     * without Kafka (tests outside Quarkus).
     */
    public static NotifierService create(NotifierConfig config, Engine engine, MeterRegistry registry, Clock clock,
            NotifierService.AppSettingsSource appSettings) {
        NotifierService service = service(config, engine, registry, clock, appSettings);
        service.open(NotifierService.SINGLE, StateStore.open(config.dataDir(), config.stateRetention(), clock));
        return service;
    }

    /** Builds the service, its HTTP clients and workers, holding no state yet ({@link NotifierService#open}). */
    public static NotifierService service(NotifierConfig config, Engine engine, MeterRegistry registry, Clock clock,
            NotifierService.AppSettingsSource appSettings) {
        NotifierMetrics metrics = new NotifierMetrics(registry, new StageMetrics(registry, Stage.NOTIFIER));
        NotifierConfig.Retry retry = config.retry();
        Backoff backoff = new Backoff(retry.maxAttempts(), retry.initialDelay(), retry.maxDelay());
        Map<ProviderKind, ProviderWorker> workers = new EnumMap<>(ProviderKind.class);
        Set<ProviderKind> enabled = EnumSet.noneOf(ProviderKind.class);

        NotifierConfig.GitHub github = config.github();
        github.token().ifPresent(token -> {
            HttpCalls http = new HttpCalls(retry.requestTimeout(), List.of(token), clock);
            workers.put(ProviderKind.GITHUB, new ProviderWorker(ProviderKind.GITHUB,
                    new GitHubClient(github.apiUrl(), token, http), backoff, retry.maxRetryAfter(), metrics));
            enabled.add(ProviderKind.GITHUB);
        });
        NotifierConfig.GitLab gitlab = config.gitlab();
        gitlab.token().ifPresent(token -> {
            HttpCalls http = new HttpCalls(retry.requestTimeout(), List.of(token), clock);
            workers.put(ProviderKind.GITLAB, new ProviderWorker(ProviderKind.GITLAB,
                    new GitLabClient(gitlab.apiUrl(), token, http), backoff, retry.maxRetryAfter(), metrics));
            enabled.add(ProviderKind.GITLAB);
        });
        NotifierConfig.Slack slack = config.slack();
        if (slack.token().isPresent() || slack.webhookUrl().isPresent()) {
            List<String> secrets = new ArrayList<>();
            slack.token().ifPresent(secrets::add);
            slack.webhookUrl().ifPresent(secrets::add);
            HttpCalls http = new HttpCalls(retry.requestTimeout(), secrets, clock);
            workers.put(ProviderKind.SLACK, new ProviderWorker(ProviderKind.SLACK,
                    new SlackClient(slack.apiUrl(), slack.token(), slack.webhookUrl(), http), backoff,
                    retry.maxRetryAfter(), metrics));
            enabled.add(ProviderKind.SLACK);
        }
        NotifierConfig.Jira jira = config.jira();
        if (jira.baseUrl().isPresent()) {
            String email = jira.email().orElseThrow(() -> new IllegalArgumentException(
                    "conveyor.notifier.jira.email is required when conveyor.notifier.jira.base-url is set"));
            String token = jira.apiToken().orElseThrow(() -> new IllegalArgumentException(
                    "conveyor.notifier.jira.api-token is required when conveyor.notifier.jira.base-url is set"));
            HttpCalls http = new HttpCalls(retry.requestTimeout(), List.of(token), clock);
            workers.put(ProviderKind.JIRA, new ProviderWorker(ProviderKind.JIRA,
                    new JiraClient(jira.baseUrl().get(), email, token, http), backoff, retry.maxRetryAfter(), metrics));
            enabled.add(ProviderKind.JIRA);
        }

        // calls waiting per provider: a growing backlog is a provider down or rate-limiting
        workers.forEach((provider, worker) -> Gauge.builder(NotifierMetrics.BACKLOG, worker, ProviderWorker::backlog)
                .description("Calls waiting or in progress at a provider").tag("provider", provider.id())
                .register(registry));
        NotifierService.Settings settings = new NotifierService.Settings(lower(github.hosts()), lower(gitlab.hosts()),
                enabled, slack.token().isPresent(), slack.webhookUrl().isPresent(), slack.defaultChannel(),
                Map.copyOf(slack.channels()), jira.transitionId(), config.runUrl(), config.maxDiffChars());
        Planner planner = new Planner(Set.copyOf(jira.projects().orElse(List.of())));
        MessageTemplates templates = new MessageTemplates(engine, config.templates().dir(),
                () -> metrics.failed(NotifierFailure.TEMPLATE_ERROR));
        return new NotifierService(planner, templates, settings, workers, metrics, clock, appSettings);
    }

    private static Set<String> lower(List<String> hosts) {
        Set<String> out = new HashSet<>();
        hosts.forEach(h -> out.add(h.toLowerCase(Locale.ROOT)));
        return out;
    }

}
