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
import java.util.concurrent.ConcurrentHashMap;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.RepoSynced;
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
 * Turns each event into provider calls exactly once: an event already folded into its run makes no call; otherwise the
 * event is folded into its run's state, the calls are rendered, and calls and state are written durably before the
 * record is committed. The calls then go to each provider's own worker.
 * <p>
 * The state is held per partition of the event topics ({@link #open(int, StateStore)}): all event topics have the same
 * partition count and key (the app), so a run's events all arrive in one partition index, and the replica that owns
 * that index holds the run. A single process holds one store for everything ({@link #SINGLE}).
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

    /** The partition of a store that holds every run (one process, no partitioned input). */
    public static final int SINGLE = 0;

    private final Map<Integer, StateStore> stores = new ConcurrentHashMap<>();
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

    public NotifierService(Planner planner, MessageTemplates templates, Settings settings,
            Map<ProviderKind, ProviderWorker> workers, NotifierMetrics metrics, Clock clock,
            AppSettingsSource appSettings) {
        this.planner = planner;
        this.templates = templates;
        this.settings = settings;
        this.workers = new EnumMap<>(ProviderKind.class);
        this.workers.putAll(workers);
        this.metrics = metrics;
        this.clock = clock;
        this.appSettings = appSettings;
    }

    /**
     * Takes over the runs of a partition: from now on its events are accepted, and the calls its state has that are not
     * done yet (recorded before a restart, or by the replica that held it before) go out first.
     */
    public void open(int partition, StateStore store) {
        StateStore before = stores.put(partition, store);
        if (before != null) {
            before.close();
        }
        List<Delivery> resumed = store.pending();
        if (!resumed.isEmpty()) {
            LOG.infof("partition %d: resuming %d calls not done before", partition, resumed.size());
        }
        resumed.forEach(d -> dispatch(d, store));
    }

    /**
     * Gives up the runs of a partition (it moved to another replica, or the process stops): its store writes nothing
     * more, and its calls still queued here are left to the next owner.
     */
    public void close(int partition) {
        StateStore store = stores.remove(partition);
        if (store != null) {
            store.close();
        }
    }

    /** The partitions whose runs this service holds. */
    public Set<Integer> partitions() {
        return Set.copyOf(stores.keySet());
    }

    /** Handles one event of the single store ({@link #SINGLE}). */
    public boolean accept(ConveyorEvent event, String eventId) {
        return accept(event, eventId, SINGLE);
    }

    /**
     * Handles one event.
     *
     * @param eventId the record's CloudEvents id
     * @return {@code false} when the id was handled before and nothing was done
     */
    public boolean accept(ConveyorEvent event, String eventId, int partition) {
        StateStore store = stores.get(partition);
        if (store == null) {
            throw new IllegalStateException("partition " + partition + " is not held by this notifier");
        }
        metrics.consumed(event.eventType());
        if (folded(store, event, eventId)) {
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
        synchronized (store) {
            if (folded(store, event, eventId)) {
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
            // an event naming several runs that was cut short after some of them: only the others are left
            boolean partial = changes.stream().anyMatch(c -> store.folded(c.after().runId, eventId));
            List<RunChange> left = changes.stream().filter(c -> !store.folded(c.after().runId, eventId)).toList();
            record(store, event, eventId, left, partial);
        }
        return true;
    }

    /** Whether the event was folded into every run it names already. */
    private static boolean folded(StateStore store, ConveyorEvent event, String eventId) {
        if (!store.handled(eventId)) {
            return false;
        }
        List<String> runIds = event instanceof RepoSynced synced ? synced.runIds() : List.of(event.run().runId());
        return runIds.stream().allMatch(id -> store.folded(id, eventId));
    }

    private boolean duplicate(ConveyorEvent event, String eventId) {
        metrics.duplicate();
        LOG.debugf("app %s run %s: event %s handled before", event.run().app(), event.run().runId(), eventId);
        return false;
    }

    private void record(StateStore store, ConveyorEvent event, String eventId, List<RunChange> changes,
            boolean partial) {
        List<Delivery> numbered = new ArrayList<>();
        for (RunChange change : changes) {
            List<Delivery> calls = calls(change);
            for (Delivery d : calls) {
                // the calls of the runs left of a partial event are numbered apart from those already recorded
                String id = partial
                        ? eventId + "/" + change.after().runId + "/" + numbered.size()
                        : eventId + "/" + numbered.size();
                numbered.add(d.withId(id));
            }
        }
        store.recordEvent(eventId, changes.stream().map(RunChange::after).toList(), numbered);
        LOG.debugf("app %s run %s: %s makes %d calls", event.run().app(), event.run().runId(),
                event.eventType().eventName(), numbered.size());
        numbered.forEach(d -> dispatch(d, store));
    }

    private void dispatch(Delivery d, StateStore store) {
        ProviderWorker worker = workers.get(d.provider());
        if (worker == null) {
            LOG.warnf("%s dropped: %s is no longer configured", d.describe(), d.provider().id());
            store.recordDone(d, Map.of());
            return;
        }
        worker.submit(d, store);
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

    /** Whether an event with this CloudEvents id has been handled, in any partition held here. */
    public boolean handled(String eventId) {
        return stores.values().stream().anyMatch(s -> s.handled(eventId));
    }

    /** The state of a run, if a partition held here has it. */
    public Optional<RunState> run(String runId) {
        return stores.values().stream().map(s -> s.run(runId)).flatMap(Optional::stream).findFirst();
    }

    /** Calls waiting at a provider or in progress. */
    public int backlog(ProviderKind provider) {
        ProviderWorker w = workers.get(provider);
        return w == null ? 0 : w.backlog();
    }

    @Override
    public void close() {
        workers.values().forEach(ProviderWorker::close);
        Set.copyOf(stores.keySet()).forEach(this::close);
    }
}
