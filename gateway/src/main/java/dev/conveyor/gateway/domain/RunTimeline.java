package dev.conveyor.gateway.domain;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.conveyor.events.v1.BuildFailed;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.ChartPublished;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.EventType;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.ReleaseDegraded;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.events.v1.StageFailed;
import dev.conveyor.events.v1.TestSummary;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.gateway.domain.Views.EventView;
import dev.conveyor.gateway.domain.Views.Link;
import dev.conveyor.gateway.domain.Views.RunView;
import dev.conveyor.gateway.domain.Views.Status;
import dev.conveyor.gateway.domain.Views.StepView;

/**
 * One run's timeline, folded from its events. Pure and deterministic: the same events give the same timeline, which is
 * what lets the gateway rebuild it from the log after a restart.
 *
 * <p>
 * The log is read from many topics, so events of one run arrive in no guaranteed order across topics; the fold does
 * not depend on it. A step starts with its input event and finishes with its output event; a {@code StageFailed} fails
 * the step of its stage. An event of a higher attempt (a replay, or a rebuild) resets the steps after the one that
 * produced it, which then run again. Duplicates (the same CloudEvents id) are ignored.
 *
 * <p>
 * Not thread-safe: the read model serialises access.
 */
public final class RunTimeline {

    private final String runId;
    private PipelineRun run;
    private final Map<String, RecordedEvent> events = new LinkedHashMap<>();
    private final EnumMap<Step, StepState> steps = new EnumMap<>(Step.class);
    private final Map<String, Link> links = new LinkedHashMap<>();
    private int attempt = 1;
    private Instant startedAt;
    private Instant updatedAt;

    public RunTimeline(String runId) {
        this.runId = runId;
        for (Step step : Step.values()) {
            steps.put(step, new StepState());
        }
    }

    public String runId() {
        return runId;
    }

    /** Whether an event with this CloudEvents id was applied. */
    public boolean contains(String eventId) {
        return events.containsKey(eventId);
    }

    /** The events applied, sorted by CloudEvents id (the order of a run's snapshot). */
    public List<RecordedEvent> eventsById() {
        return events.values().stream().sorted(Comparator.comparing(RecordedEvent::id)).toList();
    }

    /** How many distinct events were applied. */
    public int eventCount() {
        return events.size();
    }

    /** The highest attempt seen. */
    public int attempt() {
        return attempt;
    }

    /** When the run's first event happened. */
    public Instant startedAt() {
        return startedAt;
    }

    /** The run's context from its latest attempt, if an event of the run itself was read. */
    public Optional<PipelineRun> run() {
        return Optional.ofNullable(run);
    }

    /**
     * Applies one event; returns false for a duplicate. A {@code RepoSynced} may belong to several runs (it lists the
     * run ids its revision delivered) and is applied to each.
     */
    public boolean apply(RecordedEvent recorded) {
        if (events.containsKey(recorded.id())) {
            return false;
        }
        events.put(recorded.id(), recorded);
        ConveyorEvent event = recorded.event();
        boolean own = event.run().runId().equals(runId);
        if (own && (run == null || event.run().attempt() >= run.attempt())) {
            run = event.run();
        }
        Instant at = event.occurredAt();
        startedAt = startedAt == null || at.isBefore(startedAt) ? at : startedAt;
        updatedAt = updatedAt == null || at.isAfter(updatedAt) ? at : updatedAt;
        Optional<Step> producer = Step.producerOf(event);
        if (producer.isEmpty()) {
            return true;
        }
        int eventAttempt = own ? event.run().attempt() : attempt;
        Step step = producer.get();
        if (eventAttempt > attempt) {
            attempt = eventAttempt;
        }
        resetAfter(step, eventAttempt);
        boolean replayed = RecordedEvent.GATEWAY_SOURCE.equals(recorded.source()) && step != Step.BUILD;
        if (!replayed) {
            finish(step, recorded.id(), event, eventAttempt);
        }
        addLinks(event);
        startNext(step, event, eventAttempt);
        return true;
    }

    private void resetAfter(Step producer, int eventAttempt) {
        for (Step later : Step.values()) {
            StepState state = steps.get(later);
            if (later.ordinal() > producer.ordinal() && state.attempt < eventAttempt) {
                state.attempt = eventAttempt;
                state.status = Status.PENDING;
                state.startedAt = null;
                state.finishedAt = null;
                state.detail = null;
                state.decidedAt = null;
                state.decidedBy = null;
            }
        }
    }

    private void finish(Step step, String eventId, ConveyorEvent event, int eventAttempt) {
        StepState state = steps.get(step);
        state.attempts.add(eventAttempt);
        if (eventAttempt < state.attempt) {
            return; // a late event of an attempt that was replayed since
        }
        if (eventAttempt > state.attempt) {
            state.startedAt = null; // the previous attempt's start; this attempt's input is still to be read
            state.decidedAt = null;
            state.decidedBy = null;
        } else if (state.decidedAt != null && (event.occurredAt().isBefore(state.decidedAt)
                || event.occurredAt().equals(state.decidedAt) && eventId.compareTo(state.decidedBy) < 0)) {
            // An earlier output of this attempt (ChartPublished before ReleasePromoted, one promotion before another)
            // read late: the step shows the latest, whatever order the topics were read in.
            return;
        }
        state.attempt = eventAttempt;
        Status status = Status.SUCCEEDED;
        String detail;
        if (event instanceof BuildSucceeded build) {
            detail = build.tests() == null ? "built" : counts(build.tests());
        } else if (event instanceof BuildFailed build) {
            status = Status.FAILED;
            detail = build.failedStep() + ": " + build.reason()
                    + (build.tests() == null ? "" : " — " + counts(build.tests()));
        } else if (event instanceof VersionResolved version) {
            detail = version.version() + (version.tag() == null ? "" : " (tag " + version.tag() + ")");
        } else if (event instanceof ImagePushed image) {
            detail = image.imageReference();
        } else if (event instanceof ManifestsValidated manifests) {
            detail = manifests.chartName() + ": " + manifests.objectCount() + " objects valid";
        } else if (event instanceof ChartPublished chart) {
            detail = chart.chartName() + " " + chart.chartVersion() + " published";
        } else if (event instanceof ReleasePromoted promoted) {
            detail = "promoted to " + promoted.environment() + " (" + promoted.namespace() + "/" + promoted.release()
                    + ")";
        } else if (event instanceof RepoSynced synced) {
            if (state.status == Status.SUCCEEDED || state.status == Status.FAILED) {
                return; // health already decided
            }
            status = Status.RUNNING;
            detail = "synced " + shortSha(synced.revision()) + ", waiting for health";
        } else if (event instanceof ReleaseHealthy healthy) {
            detail = healthy.namespace() + "/" + healthy.release() + " healthy";
        } else if (event instanceof ReleaseDegraded degraded) {
            status = Status.FAILED;
            detail = degraded.reason() + ": " + degraded.message();
        } else {
            StageFailed failed = (StageFailed) event;
            status = Status.FAILED;
            detail = failed.reason() + ": " + failed.message();
        }
        state.status = status;
        state.detail = detail;
        state.decidedAt = event.occurredAt();
        state.decidedBy = eventId;
        if (status != Status.RUNNING) {
            state.finishedAt = event.occurredAt();
        }
    }

    /**
     * The hook's test and lint counts. A hook that sends no {@code lint} block reports 0 errors and 0 warnings: the event
     * cannot tell that apart from a clean lint.
     */
    static String counts(TestSummary t) {
        return t.testsPassed() + " tests passed, " + t.testsFailed() + " failed, " + t.testsSkipped()
                + " skipped; lint: "
                + t.lintErrors() + " errors, " + t.lintWarnings() + " warnings";
    }

    private void startNext(Step producer, ConveyorEvent event, int eventAttempt) {
        Optional<Step> next = producer.next();
        if (next.isEmpty() || next.get().input().filter(t -> t == event.eventType()).isEmpty()) {
            return;
        }
        StepState state = steps.get(next.get());
        state.attempts.add(eventAttempt);
        if (eventAttempt < state.attempt) {
            return;
        }
        if (state.startedAt == null || event.occurredAt().isBefore(state.startedAt)) {
            state.startedAt = event.occurredAt();
        }
        if (state.status == Status.PENDING) {
            state.status = Status.RUNNING;
        }
    }

    private void addLinks(ConveyorEvent event) {
        if (!event.run().runId().equals(runId) && !(event instanceof RepoSynced)) {
            return;
        }
        PipelineRun r = event.run();
        String web = webBase(r.repoUrl());
        link("commit", shortSha(r.commit()), web == null ? null : web + "/commit/" + r.commit());
        if (r.pullRequest() != null) {
            link("pull-request", "#" + r.pullRequest(), web == null ? null : web + "/pull/" + r.pullRequest());
        }
        if (event instanceof BuildSucceeded build) {
            link("build", build.buildUrl(), webOnly(build.buildUrl()));
            link("artifact", build.artifact().uri(), webOnly(build.artifact().uri()));
        } else if (event instanceof BuildFailed build) {
            link("build", build.buildUrl(), webOnly(build.buildUrl()));
        } else if (event instanceof ImagePushed image) {
            link("image", image.imageReference(), null);
        } else if (event instanceof ManifestsValidated manifests && manifests.manifestsCommit() != null) {
            link("manifests-commit", shortSha(manifests.manifestsCommit()),
                    web == null ? null : web + "/commit/" + manifests.manifestsCommit());
        } else if (event instanceof ChartPublished chart) {
            link("chart", chart.chartName() + ":" + chart.chartVersion(), null);
        } else if (event instanceof ReleasePromoted promoted) {
            String gitops = webBase(promoted.gitopsRepo());
            link("gitops-commit", promoted.environment() + " " + shortSha(promoted.gitopsCommit()),
                    gitops == null ? null : gitops + "/commit/" + promoted.gitopsCommit());
            if (promoted.pullRequestUrl() != null) {
                link("promotion-pull-request", promoted.pullRequestUrl(), webOnly(promoted.pullRequestUrl()));
            }
        }
    }

    private void link(String rel, String text, String href) {
        links.putIfAbsent(rel + "\n" + text, new Link(rel, text, href));
    }

    /**
     * The recorded input events of a step, from the highest attempt that has one: what a replay from the step
     * re-publishes. Several for flux-sync when the promoter wrote to several GitOps repositories.
     */
    public List<ConveyorEvent> recordedInput(Step step) {
        Optional<EventType> input = step.input();
        if (input.isEmpty()) {
            return List.of();
        }
        int best = 0;
        Map<String, ConveyorEvent> byDiscriminator = new LinkedHashMap<>();
        for (RecordedEvent recorded : events.values()) {
            ConveyorEvent event = recorded.event();
            if (event.eventType() != input.get() || !event.run().runId().equals(runId)) {
                continue;
            }
            int a = event.run().attempt();
            if (a > best) {
                best = a;
                byDiscriminator.clear();
            }
            if (a == best) {
                byDiscriminator.put(event.discriminator(), event);
            }
        }
        return List.copyOf(byDiscriminator.values());
    }

    /** The build event (succeeded or failed) of the highest attempt that has one. */
    public Optional<ConveyorEvent> latestBuild() {
        ConveyorEvent best = null;
        for (RecordedEvent recorded : events.values()) {
            ConveyorEvent event = recorded.event();
            boolean build = event instanceof BuildSucceeded || event instanceof BuildFailed;
            if (build && event.run().runId().equals(runId)
                    && (best == null || event.run().attempt() > best.run().attempt())) {
                best = event;
            }
        }
        return Optional.ofNullable(best);
    }

    /**
     * The run's status: FAILED once a step of its flow failed, SUCCEEDED once its flow's last step succeeded (CI:
     * manifest-renderer, CD: flux-sync on {@code ReleaseHealthy}), RUNNING otherwise.
     */
    public Status status() {
        Flow flow = run == null ? null : run.flow();
        for (Step step : Step.values()) {
            if ((flow == null || step.appliesTo(flow)) && steps.get(step).status == Status.FAILED) {
                return Status.FAILED;
            }
        }
        Step last = flow == Flow.CI ? Step.MANIFEST_RENDERER : Step.FLUX_SYNC;
        return steps.get(last).status == Status.SUCCEEDED && run != null ? Status.SUCCEEDED : Status.RUNNING;
    }

    /** The timeline as served: steps in order, links, and (if asked) every event. */
    public RunView view(boolean withEvents) {
        PipelineRun r = run;
        Flow flow = r == null ? null : r.flow();
        List<StepView> stepViews = new ArrayList<>();
        for (Step step : Step.values()) {
            StepState s = steps.get(step);
            boolean applies = flow == null || step.appliesTo(flow);
            Status status = applies ? s.status : Status.SKIPPED;
            Long duration = s.startedAt != null && s.finishedAt != null
                    ? Duration.between(s.startedAt, s.finishedAt).toMillis()
                    : null;
            stepViews.add(
                    new StepView(step.id(), status, s.attempt, s.attempts.size(), s.startedAt, s.finishedAt, duration,
                            s.detail));
        }
        Status status = status();
        // Sorted, not in reading order: topics are read in no fixed order, and a rebuilt model must be equal.
        List<EventView> eventViews = withEvents
                ? events.values().stream().map(RunTimeline::eventView)
                        .sorted(Comparator.comparing(EventView::occurredAt).thenComparing(EventView::id)).toList()
                : List.of();
        List<Link> linkViews = links.values().stream()
                .sorted(Comparator.comparing(Link::rel).thenComparing(Link::text)).toList();
        long duration = startedAt == null ? 0 : Duration.between(startedAt, updatedAt).toMillis();
        // One entry per replayed attempt (flux-sync's replay re-publishes several events with the same audit).
        List<ReplayAudit> replays = events.values().stream().map(RecordedEvent::audit)
                .filter(java.util.Objects::nonNull).distinct()
                .sorted(Comparator.comparingInt(ReplayAudit::attempt).thenComparing(ReplayAudit::at)).toList();
        return new RunView(runId, r == null ? null : r.app(), r == null ? null : r.repoUrl(),
                r == null ? null : r.commit(), r == null ? null : r.branch(), r == null ? null : r.pullRequest(), flow,
                attempt, status, startedAt, updatedAt, duration, List.copyOf(stepViews),
                linkViews, eventViews, replays);
    }

    /** How one event is shown. */
    public static EventView eventView(RecordedEvent recorded) {
        ConveyorEvent event = recorded.event();
        boolean replay = RecordedEvent.GATEWAY_SOURCE.equals(recorded.source())
                && !(event instanceof BuildSucceeded || event instanceof BuildFailed);
        return new EventView(recorded.id(), event.eventType().eventName(), recorded.source(),
                Step.producerOf(event).map(Step::id).orElse(null), event.run().attempt(), event.occurredAt(), replay,
                recorded.audit());
    }

    private static String webBase(String url) {
        if (url == null || !(url.startsWith("https://") || url.startsWith("http://"))) {
            return null;
        }
        String base = url;
        while (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        return base.endsWith(".git") ? base.substring(0, base.length() - 4) : base;
    }

    private static String webOnly(String url) {
        return url != null && (url.startsWith("https://") || url.startsWith("http://")) ? url : null;
    }

    private static String shortSha(String sha) {
        return sha.length() > 12 ? sha.substring(0, 12) : sha;
    }

    private static final class StepState {
        Status status = Status.PENDING;
        int attempt = 1;
        final java.util.Set<Integer> attempts = new java.util.TreeSet<>();
        Instant startedAt;
        Instant finishedAt;
        String detail;
        /** When the event that set status and detail happened, and its id: a later one of the attempt wins. */
        Instant decidedAt;
        String decidedBy;
    }
}
