package dev.conveyor.gateway.domain;

import java.time.Instant;
import java.util.List;

import dev.conveyor.events.v1.Flow;
import io.quarkus.runtime.annotations.RegisterForReflection;

/** The read model's answers, as served by the REST API and the run page. */
public final class Views {

    private Views() {
    }

    /** Where a step or a whole run is. */
    public enum Status {
        PENDING, RUNNING, SUCCEEDED, FAILED, SKIPPED
    }

    /**
     * One run's timeline.
     *
     * @param runId the run id
     * @param app the app id
     * @param repoUrl the app repository
     * @param commit the commit built
     * @param branch the branch built
     * @param pullRequest the pull request, in CI
     * @param flow CI or CD
     * @param attempt the highest attempt seen (1, then +1 per replay)
     * @param status RUNNING, SUCCEEDED or FAILED
     * @param startedAt when the first event of the run happened
     * @param updatedAt when the latest event of the run happened
     * @param durationMillis from the first to the latest event
     * @param steps the pipeline's steps in order, with status, attempt and duration
     * @param links commit, pull request, build, image, manifests and GitOps commits
     * @param events every event of the run, in the order read (empty in lists)
     * @param replays the audit of every replay of the run, oldest first: who, when, from which stage, which attempt
     */
    @RegisterForReflection
    public record RunView(String runId, String app, String repoUrl, String commit, String branch, Integer pullRequest,
            Flow flow, int attempt, Status status, Instant startedAt, Instant updatedAt, long durationMillis,
            List<StepView> steps, List<Link> links, List<EventView> events, List<ReplayAudit> replays) {

        /** The same run without its events, for lists. */
        public RunView summary() {
            return new RunView(runId, app, repoUrl, commit, branch, pullRequest, flow, attempt, status, startedAt,
                    updatedAt, durationMillis, steps, links, List.of(), replays);
        }
    }

    /**
     * One step of a run.
     *
     * @param id the step id ({@code build}, {@code versioner}, ...)
     * @param status where it is
     * @param attempt the attempt of the run its current state belongs to
     * @param runs how many times it was started (more than one after replays)
     * @param startedAt when its input event happened
     * @param finishedAt when its output event happened
     * @param durationMillis finishedAt - startedAt, when both are known
     * @param detail what it produced or why it failed
     */
    @RegisterForReflection
    public record StepView(String id, Status status, int attempt, int runs, Instant startedAt, Instant finishedAt,
            Long durationMillis, String detail) {
    }

    /**
     * A link on the run page.
     *
     * @param rel what it is: {@code commit}, {@code pull-request}, {@code build}, {@code artifact}, {@code image},
     *     {@code manifests-commit}, {@code chart}, {@code gitops-commit}, {@code promotion-pull-request}
     * @param text what to show
     * @param href where it points, when it is a web address
     */
    @RegisterForReflection
    public record Link(String rel, String text, String href) {
    }

    /**
     * One event of a run.
     *
     * @param id CloudEvents id
     * @param type event name, e.g. {@code ImagePushed}
     * @param source CloudEvents source
     * @param step the step that produced it
     * @param attempt the run attempt it belongs to
     * @param occurredAt when it happened
     * @param replay whether the gateway re-published it for a replay
     * @param audit who asked for that replay, when and from which stage (null when not recorded)
     */
    @RegisterForReflection
    public record EventView(String id, String type, String source, String step, int attempt, Instant occurredAt,
            boolean replay, ReplayAudit audit) {
    }

    /**
     * What a stream subscriber receives for each event: the event and the run's timeline after it.
     *
     * @param event the event just read
     * @param run the run's timeline after applying it
     */
    @RegisterForReflection
    public record RunUpdate(EventView event, RunView run) {
    }
}
