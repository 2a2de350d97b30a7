package dev.conveyor.gateway.service;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Function;

import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.gateway.domain.RecordedEvent;
import dev.conveyor.gateway.domain.RunTimeline;
import dev.conveyor.gateway.domain.Views.RunUpdate;
import dev.conveyor.gateway.domain.Views.RunView;
import dev.conveyor.gateway.domain.Views.Status;
import io.smallrye.mutiny.Multi;

/**
 * Every run's timeline, in memory, keyed by run id, folded from the event log. It holds nothing the log does not: on
 * start the gateway reads every topic from the beginning and arrives at the same timelines again.
 */
public class RunReadModel {

    private final Map<String, RunTimeline> runs = new HashMap<>();
    private final List<Consumer<RunUpdate>> listeners = new CopyOnWriteArrayList<>();
    private final PipelineMetrics metrics;
    private volatile boolean caughtUp;

    /** A read model that measures nothing (a second reader, tests). */
    public RunReadModel() {
        this(null);
    }

    /** A read model that records the pipeline's measures from live events into {@code metrics}. */
    public RunReadModel(PipelineMetrics metrics) {
        this.metrics = metrics;
    }

    /** {@link #apply(RecordedEvent, boolean)} of a live event. */
    public boolean apply(RecordedEvent recorded) {
        return apply(recorded, true);
    }

    /**
     * Applies one event to its run (and, for a {@code RepoSynced}, to every known run its revision delivered). Returns
     * whether anything changed: a duplicate changes nothing. {@code live} says whether the event was read beyond where
     * the log ended at start: only live events are measured (see {@link PipelineMetrics}).
     */
    public synchronized boolean apply(RecordedEvent recorded, boolean live) {
        Set<String> targets = new LinkedHashSet<>();
        targets.add(recorded.event().run().runId());
        if (recorded.event() instanceof RepoSynced synced) {
            synced.runIds().stream().filter(runs::containsKey).forEach(targets::add);
        }
        boolean changed = false;
        for (String runId : targets) {
            RunTimeline timeline = runs.computeIfAbsent(runId, RunTimeline::new);
            Status before = timeline.status();
            if (timeline.apply(recorded)) {
                changed = true;
                if (metrics != null) {
                    metrics.runChanged(timeline, before, recorded.event(), live);
                }
                RunUpdate update = new RunUpdate(RunTimeline.eventView(recorded), timeline.view(true));
                listeners.forEach(l -> l.accept(update));
            }
        }
        if (changed && metrics != null) {
            metrics.eventApplied(recorded.event(), live);
        }
        return changed;
    }

    /** Runs matching the filters (each optional), newest first. */
    public synchronized List<RunView> list(Optional<String> app, Optional<Status> status, Optional<Flow> flow,
            int limit) {
        return runs.values().stream().map(t -> t.view(false))
                .filter(v -> v.app() != null)
                .filter(v -> app.map(a -> a.equals(v.app())).orElse(true))
                .filter(v -> status.map(s -> s == v.status()).orElse(true))
                .filter(v -> flow.map(f -> f == v.flow()).orElse(true))
                .sorted(Comparator.comparing(RunView::startedAt).reversed().thenComparing(RunView::runId))
                .limit(limit).toList();
    }

    /** One run's timeline with its events. */
    public synchronized Optional<RunView> get(String runId) {
        return Optional.ofNullable(runs.get(runId)).filter(t -> t.run().isPresent()).map(t -> t.view(true));
    }

    /** Every run's timeline with events, ordered by run id: what a rebuilt read model must equal. */
    public synchronized List<RunView> snapshot() {
        return runs.values().stream().map(t -> t.view(true)).sorted(Comparator.comparing(RunView::runId)).toList();
    }

    /** Runs something against one run's timeline under the model's lock, e.g. to plan a replay. */
    public synchronized <T> Optional<T> withRun(String runId, Function<RunTimeline, T> action) {
        RunTimeline timeline = runs.get(runId);
        return timeline == null || timeline.run().isEmpty()
                ? Optional.empty()
                : Optional.ofNullable(action.apply(timeline));
    }

    /** Ids of an app's runs whose first event happened in [since, until), oldest first. */
    public synchronized List<String> runIdsOf(String app, Instant since, Instant until) {
        List<RunTimeline> matching = new ArrayList<>();
        for (RunTimeline timeline : runs.values()) {
            boolean ofApp = timeline.run().map(r -> r.app().equals(app)).orElse(false);
            Instant started = timeline.startedAt();
            if (ofApp && started != null && !started.isBefore(since) && started.isBefore(until)) {
                matching.add(timeline);
            }
        }
        return matching.stream().sorted(Comparator.comparing(RunTimeline::startedAt)).map(RunTimeline::runId)
                .toList();
    }

    /**
     * A run's updates as they happen, starting with its current timeline (an update without event). Completes never;
     * the subscriber cancels.
     */
    public Multi<RunUpdate> stream(String runId) {
        return Multi.createFrom().emitter(emitter -> {
            Consumer<RunUpdate> listener = u -> {
                if (u.run().runId().equals(runId)) {
                    emitter.emit(u);
                }
            };
            synchronized (this) {
                listeners.add(listener);
                get(runId).ifPresent(v -> emitter.emit(new RunUpdate(null, v)));
            }
            emitter.onTermination(() -> listeners.remove(listener));
        });
    }

    /** Every run's updates as they happen, as summaries (no event lists). */
    public Multi<RunUpdate> streamAll() {
        return Multi.createFrom().emitter(emitter -> {
            Consumer<RunUpdate> listener = u -> emitter.emit(new RunUpdate(u.event(), u.run().summary()));
            listeners.add(listener);
            emitter.onTermination(() -> listeners.remove(listener));
        });
    }

    /** Whether the log has been read up to where it ended when the gateway started. */
    public boolean caughtUp() {
        return caughtUp;
    }

    public void markCaughtUp() {
        caughtUp = true;
    }
}
