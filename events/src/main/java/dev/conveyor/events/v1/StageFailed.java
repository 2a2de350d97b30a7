package dev.conveyor.events.v1;

import java.time.Instant;
import java.util.Map;

/**
 * A stage gave up on the run: its failure was terminal, or transient and its retries ran out.
 *
 * @param run the run this event belongs to
 * @param occurredAt when it happened
 * @param causationId the CloudEvents id of the event this one answers
 * @param stage the stage that failed
 * @param reason a machine reason code from the stage's reason enum, e.g. {@code CHECKSUM_MISMATCH}
 * @param retryable whether a replay may succeed without a change (transient failures)
 * @param message what went wrong, for people; never a credential
 * @param details further facts by name, e.g. the offending field or file
 */
public record StageFailed(
        PipelineRun run,
        Instant occurredAt,
        @Nullable String causationId,
        Stage stage,
        String reason,
        boolean retryable,
        String message,
        Map<String, String> details) implements ConveyorEvent {

    public StageFailed {
        Checks.required(run, "run");
        Checks.required(occurredAt, "occurredAt");
        Checks.required(stage, "stage");
        Checks.required(reason, "reason");
        Checks.required(message, "message");
        details = Checks.map(details, "details");
    }

    @Override
    public String discriminator() {
        return stage.id();
    }
}
