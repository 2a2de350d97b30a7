package dev.conveyor.notifier.service;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.notifier.domain.AppNotifySettings;
import dev.conveyor.notifier.domain.Delivery;
import dev.conveyor.notifier.domain.Deployment;
import dev.conveyor.notifier.domain.Notice;
import dev.conveyor.notifier.domain.Planner;
import dev.conveyor.notifier.domain.ProviderKind;
import dev.conveyor.notifier.domain.RepoRef;
import dev.conveyor.notifier.domain.RunChange;
import dev.conveyor.notifier.domain.RunState;

/**
 * Turns each event into provider calls exactly once: a CloudEvents id already in the journal makes no call; otherwise
 * the event is folded into its run's state, the calls are rendered, and state and calls are journalled in one durable
 * line before the record is acknowledged. The calls then go to each provider's own worker.
 */
public final class NotifierService implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(NotifierService.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_STATUS_DESCRIPTION = 140;
    private static final int MAX_SLACK_SECTION = 3000;

    /** What the service needs to know about the providers that are on. */
    public record Settings(Set<String> githubHosts, Set<String> gitlabHosts, Set<ProviderKind> enabled,
            boolean slackBot, boolean slackWebhook, Optional<String> slackDefaultChannel,
            Map<String, String> slackChannels, Optional<String> jiraTransitionId, String runUrl, int maxDiffChars) {
    }

    private final StateStore store;
    private final Planner planner;
    private final MessageTemplates templates;
    private final Settings settings;
    private final Map<ProviderKind, ProviderWorker> workers;
    private final NotifierMetrics metrics;
    private final Clock clock;
    private final AppSettingsSource appSettings;

    /** Where a run's app settings come from: the app's {@code .conveyor.yaml} at the run's commit, or nowhere. */
    @FunctionalInterface
    public interface AppSettingsSource {
        AppNotifySettings read(String app, String runId, String repoUrl, String commit);
    }

    public NotifierService(StateStore store, Planner planner, MessageTemplates templates, Settings settings,
            Map<ProviderKind, ProviderWorker> workers, NotifierMetrics metrics, Clock clock,
            AppSettingsSource appSettings) {
        this.store = store;
        this.planner = planner;
        this.templates = templates;
        this.settings = settings;
        this.workers = new EnumMap<>(ProviderKind.class);
        this.workers.putAll(workers);
        this.metrics = metrics;
        this.clock = clock;
        this.appSettings = appSettings;
        // calls recorded before a restart and not done yet go out first
        List<Delivery> resumed = store.pending();
        if (!resumed.isEmpty()) {
            LOG.infof("resuming %d calls not done before the restart", resumed.size());
        }
        resumed.forEach(this::dispatch);
    }

    /**
     * Handles one event.
     *
     * @param eventId the record's CloudEvents id
     * @return {@code false} when the id was handled before and nothing was done
     */
    public boolean accept(ConveyorEvent event, String eventId) {
        metrics.consumed(event.eventType());
        if (store.handled(eventId)) {
            return duplicate(event, eventId);
        }
        Instant now = clock.instant();
        String runId = event.run().runId();
        Optional<AppNotifySettings> app = Optional.empty();
        if (store.run(runId).filter(RunState::identified).isEmpty()) {
            // the first of the run's own events (a RepoSynced of another run may have named it before): read the
            // app's own settings once (a git fetch, so outside the lock), kept in the run's state from then on
            app = Optional.of(appSettings.read(event.run().app(), runId, event.run().repoUrl(), event.run().commit()));
        }
        synchronized (this) {
            if (store.handled(eventId)) {
                return duplicate(event, eventId);
            }
            Optional<AppNotifySettings> settingsRead = app;
            List<RunChange> changes = planner.apply(event, id -> {
                Optional<RunState> stored = store.run(id);
                if (!id.equals(runId) || settingsRead.isEmpty() || stored.filter(RunState::identified).isPresent()) {
                    return stored;
                }
                RunState seeded = stored.map(RunState::copy).orElseGet(() -> RunState.start(event.run(), now));
                seeded.slackChannel = settingsRead.get().slackChannel().orElse(null);
                seeded.jiraProject = settingsRead.get().jiraProject().orElse(null);
                return Optional.of(seeded);
            }, now);
            record(event, eventId, changes);
        }
        return true;
    }

    private boolean duplicate(ConveyorEvent event, String eventId) {
        metrics.duplicate();
        LOG.debugf("app %s run %s: event %s handled before", event.run().app(), event.run().runId(), eventId);
        return false;
    }

    private void record(ConveyorEvent event, String eventId, List<RunChange> changes) {
        List<Delivery> deliveries = new ArrayList<>();
        for (RunChange change : changes) {
            deliveries.addAll(calls(change));
        }
        List<Delivery> numbered = new ArrayList<>();
        for (int i = 0; i < deliveries.size(); i++) {
            numbered.add(deliveries.get(i).withId(eventId + "/" + i));
        }
        store.recordEvent(eventId, changes.stream().map(RunChange::after).toList(), numbered);
        LOG.debugf("app %s run %s: %s makes %d calls", event.run().app(), event.run().runId(),
                event.eventType().eventName(), numbered.size());
        numbered.forEach(this::dispatch);
    }

    private void dispatch(Delivery d) {
        ProviderWorker worker = workers.get(d.provider());
        if (worker == null) {
            LOG.warnf("%s dropped: %s is no longer configured", d.describe(), d.provider().id());
            store.recordDone(d, Map.of());
            return;
        }
        worker.submit(d);
    }

    private List<Delivery> calls(RunChange change) {
        if (change.notices().isEmpty()) {
            // nothing to tell (a run only named by a sync so far cannot even be rendered)
            return List.of();
        }
        RunState s = change.after();
        RunView view = RunView.of(s, settings.runUrl(), settings.maxDiffChars());
        Optional<RepoRef> vcs = s.pullRequest == null
                ? Optional.empty()
                : RepoRef.parse(s.repoUrl, settings.githubHosts(), settings.gitlabHosts())
                        .filter(r -> settings.enabled().contains(r.provider()));
        Optional<String> channel = Optional.ofNullable(s.slackChannel)
                .or(() -> Optional.ofNullable(settings.slackChannels().get(s.app)))
                .or(settings::slackDefaultChannel);
        boolean slackBot = settings.slackBot() && channel.isPresent();
        boolean failureSeen = change.notices().stream().anyMatch(n -> n instanceof Notice.FailureSeen);
        List<Delivery> out = new ArrayList<>();
        for (Notice notice : change.notices()) {
            if (notice instanceof Notice.StatusChanged st && vcs.isPresent()) {
                String state = st.state().name().toLowerCase(Locale.ROOT);
                String description = cut(templates.render(MessageTemplates.STATUS,
                        Map.of("run", view, "stage", st.stage(), "state", state)), MAX_STATUS_DESCRIPTION);
                out.add(Delivery.status(vcs.get().provider(), s.runId, s.app, vcs.get().path(), s.commit,
                        "conveyor/" + st.stage(), state, view.runUrl(), description));
            } else if (notice instanceof Notice.SummaryChanged) {
                if (vcs.isPresent()) {
                    out.add(Delivery.prComment(vcs.get().provider(), s.runId, s.app, vcs.get().path(), s.pullRequest,
                            templates.render(MessageTemplates.PR_COMMENT, Map.of("run", view))));
                }
                if (slackBot) {
                    String text = templates.render(MessageTemplates.SLACK_MESSAGE, Map.of("run", view));
                    out.add(Delivery.slack(Delivery.Kind.SLACK_MESSAGE, s.runId, s.app, channel.get(), text,
                            blocks(text)));
                }
            } else if (notice instanceof Notice.FailureSeen f) {
                String text = templates.render(MessageTemplates.SLACK_FAILURE,
                        Map.of("run", view, "failure", RunView.FailureView.of(f.failure())));
                if (slackBot) {
                    out.add(Delivery.slack(Delivery.Kind.SLACK_REPLY, s.runId, s.app, channel.get(), text,
                            blocks(text)));
                } else if (settings.slackWebhook()) {
                    out.add(Delivery.slack(Delivery.Kind.SLACK_WEBHOOK, s.runId, s.app, null, text, blocks(text)));
                }
            } else if (notice instanceof Notice.Milestone && !slackBot && settings.slackWebhook() && !failureSeen) {
                String text = templates.render(MessageTemplates.SLACK_MESSAGE, Map.of("run", view));
                out.add(Delivery.slack(Delivery.Kind.SLACK_WEBHOOK, s.runId, s.app, null, text, blocks(text)));
            } else if (notice instanceof Notice.Deployed deployed && settings.enabled().contains(ProviderKind.JIRA)) {
                out.addAll(jira(s, view, deployed.deployment()));
            }
        }
        return out;
    }

    private List<Delivery> jira(RunState s, RunView view, Deployment deployment) {
        List<Delivery> out = new ArrayList<>();
        String text = templates.render(MessageTemplates.JIRA_COMMENT,
                Map.of("run", view, "deployment", RunView.DeploymentView.of(deployment)));
        for (String key : s.jiraKeys) {
            out.add(Delivery.jiraComment(s.runId, s.app, key, text));
            settings.jiraTransitionId().ifPresent(t -> out.add(Delivery.jiraTransition(s.runId, s.app, key, t)));
        }
        return out;
    }

    /** One mrkdwn section (Slack caps a section's text at 3000 characters). */
    static String blocks(String text) {
        try {
            return JSON.writeValueAsString(List.of(Map.of("type", "section", "text",
                    Map.of("type", "mrkdwn", "text", cut(text, MAX_SLACK_SECTION)))));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String cut(String text, int max) {
        return text.length() <= max ? text : text.substring(0, max - 1) + "…";
    }

    /** Counts a record that is not a Conveyor event (the channel dead-letters it). */
    public void unreadable() {
        metrics.failed(NotifierFailure.UNREADABLE_EVENT);
    }

    /** Whether an event with this CloudEvents id has been handled. */
    public boolean handled(String eventId) {
        return store.handled(eventId);
    }

    /** Calls waiting at a provider or in progress. */
    public int backlog(ProviderKind provider) {
        ProviderWorker w = workers.get(provider);
        return w == null ? 0 : w.backlog();
    }

    @Override
    public void close() {
        workers.values().forEach(ProviderWorker::close);
        store.close();
    }
}
