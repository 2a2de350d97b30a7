package dev.conveyor.gateway.service;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

import org.jboss.logging.Logger;

import dev.conveyor.events.v1.CloudEventAttributes;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.gateway.domain.ReplayAudit;
import dev.conveyor.gateway.domain.Replays;
import dev.conveyor.gateway.domain.Step;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * Re-runs a run from a step: re-publishes the step's recorded input event as the run's next attempt (same run id), so
 * the step and every step after it run again. Safe because every stage is idempotent.
 */
public class ReplayService {

    private static final Logger LOG = Logger.getLogger(ReplayService.class);

    private final RunReadModel readModel;
    private final BiConsumer<List<ConveyorEvent>, ReplayAudit> publisher;
    private final Clock clock;
    /** Attempts handed out but maybe not read back yet, so two quick replays never share one. */
    private final Map<String, Integer> reserved = new HashMap<>();

    /**
     * @param publisher publishes the re-published events with their audit and waits for the broker's ack
     */
    public ReplayService(RunReadModel readModel, BiConsumer<List<ConveyorEvent>, ReplayAudit> publisher,
            Clock clock) {
        this.readModel = readModel;
        this.publisher = publisher;
        this.clock = clock;
    }

    /**
     * One replayed run.
     *
     * @param runId the run
     * @param from the step it runs again from
     * @param attempt the new attempt
     * @param events the re-published events: type and CloudEvents id
     */
    @RegisterForReflection
    public record ReplayResult(String runId, String from, int attempt, List<Republished> events) {
    }

    /**
     * One re-published event.
     *
     * @param type event name
     * @param id its CloudEvents id
     */
    @RegisterForReflection
    public record Republished(String type, String id) {
    }

    /**
     * A replay of every run of one app that started in a window.
     *
     * @param app the app
     * @param from the step
     * @param replayed the runs replayed
     * @param skipped runs that never reached the step, with why
     */
    @RegisterForReflection
    public record WindowResult(String app, String from, List<ReplayResult> replayed, Map<String, String> skipped) {
    }

    /**
     * Replays one run from the step {@code from} (a step id such as {@code image-builder}), on behalf of {@code by}
     * (an operator token's name, recorded in the event log with the replay).
     *
     * @throws GatewayException {@code UNKNOWN_STAGE}, {@code NOT_REPLAYABLE}, {@code UNKNOWN_RUN},
     *     {@code NO_RECORDED_INPUT} or {@code PUBLISH_FAILED}
     */
    public synchronized ReplayResult replay(String runId, String from, String by) {
        Step step = replayable(from);
        record Plan(int attempt, List<ConveyorEvent> inputs) {
        }
        Plan plan = readModel.withRun(runId, t -> new Plan(t.attempt(), t.recordedInput(step)))
                .orElseThrow(() -> new GatewayException(GatewayFailure.UNKNOWN_RUN, "no run " + runId));
        if (plan.inputs().isEmpty()) {
            throw new GatewayException(GatewayFailure.NO_RECORDED_INPUT, "run " + runId + " has no recorded "
                    + step.input().orElseThrow().eventName() + ", the input of " + step.id()
                    + ": it never reached that step");
        }
        int attempt = Math.max(plan.attempt(), reserved.getOrDefault(runId, 0)) + 1;
        Instant now = clock.instant();
        List<ConveyorEvent> events = plan.inputs().stream().map(e -> Replays.withAttempt(e, attempt, now)).toList();
        publisher.accept(events, new ReplayAudit(by, now, step.id(), attempt));
        reserved.put(runId, attempt);
        LOG.infof("run %s of %s replayed from %s as attempt %d by %s", runId, events.get(0).run().app(), step.id(),
                attempt, by);
        return new ReplayResult(runId, step.id(), attempt, events.stream()
                .map(e -> new Republished(e.eventType().eventName(), CloudEventAttributes.idOf(e))).toList());
    }

    /** Replays every run of {@code app} whose first event happened in [since, until) from the step {@code from}. */
    public synchronized WindowResult replayWindow(String app, String from, Instant since, Instant until,
            String by) {
        Step step = replayable(from);
        if (!since.isBefore(until)) {
            throw new GatewayException(GatewayFailure.INVALID_WINDOW, "since must be before until");
        }
        List<String> runIds = readModel.runIdsOf(app, since, until);
        if (runIds.isEmpty()) {
            throw new GatewayException(GatewayFailure.UNKNOWN_RUN,
                    "no run of " + app + " started between " + since + " and " + until);
        }
        List<ReplayResult> replayed = new ArrayList<>();
        Map<String, String> skipped = new java.util.LinkedHashMap<>();
        for (String runId : runIds) {
            try {
                replayed.add(replay(runId, step.id(), by));
            } catch (GatewayException e) {
                if (e.reason() != GatewayFailure.NO_RECORDED_INPUT) {
                    throw e;
                }
                skipped.put(runId, e.getMessage());
            }
        }
        return new WindowResult(app, step.id(), replayed, skipped);
    }

    private static Step replayable(String from) {
        List<String> ids = Arrays.stream(Step.values()).filter(s -> s.input().isPresent()).map(Step::id).toList();
        if (from == null || from.isBlank()) {
            throw new GatewayException(GatewayFailure.UNKNOWN_STAGE, "from is required, one of " + ids);
        }
        Step step = Step.fromId(from).orElseThrow(() -> new GatewayException(GatewayFailure.UNKNOWN_STAGE,
                "unknown stage '" + from + "', expected one of " + ids));
        if (step.input().isEmpty()) {
            throw new GatewayException(GatewayFailure.NOT_REPLAYABLE,
                    "the build runs in Jenkins: rebuild there; replayable stages are " + ids);
        }
        return step;
    }
}
