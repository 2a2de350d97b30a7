package dev.conveyor.events.v1;

import java.time.Instant;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * The family of Conveyor events, version 1. Each event is a record named for what happened, published on its own topic
 * (see {@link EventType}) as a CloudEvent in Kafka binary mode, keyed by the app id.
 *
 * <p>
 * Every event carries the same three common fields: {@link #run()} (the run, app and commit it belongs to),
 * {@link #occurredAt()} and {@link #causationId()}. Within v1 only additive changes are made; readers ignore fields
 * they do not know.
 */
public sealed interface ConveyorEvent permits BuildSucceeded, BuildFailed, VersionResolved, ImagePushed,
        ManifestsValidated, ChartPublished, ReleasePromoted, RepoSynced, ReleaseHealthy, ReleaseDegraded, StageFailed {

    /** The run this event belongs to. */
    PipelineRun run();

    /** When the event happened, as the emitting stage saw it. */
    Instant occurredAt();

    /** The CloudEvents id of the event this one answers; absent for the first event of a run. */
    @Nullable
    String causationId();

    /** This event's type: CloudEvents type and topic. */
    @JsonIgnore
    default EventType eventType() {
        return EventType.of(getClass());
    }

    /**
     * What tells apart two events of the same type that answer the same cause, e.g. the GitOps repository and
     * environment of a {@link ReleasePromoted}. Part of the deterministic event id; empty for most events.
     */
    @JsonIgnore
    default String discriminator() {
        return "";
    }

    /**
     * What makes two events of this type the same happening, in the words the event id is made of (see
     * {@link CloudEventAttributes#idOf}). By default the run id, attempt, causation id and {@link #discriminator()}:
     * the same input handled twice gives the same event. An event that reports a state the run reached rather than
     * the answer to one input (it may be reported again after a crash, from a different trigger or a later revision)
     * leaves the causation out and names what it reached instead.
     */
    @JsonIgnore
    default String identity() {
        return run().runId() + "\n" + run().attempt() + "\n" + (causationId() == null ? "" : causationId()) + "\n"
                + discriminator();
    }
}
