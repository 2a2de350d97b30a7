package dev.conveyor.events.v1;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;

/**
 * The CloudEvents 1.0 context attributes of an event, as they travel in Kafka binary mode ({@code ce_*} headers).
 *
 * <p>
 * The id is deterministic: a stage that handles the same input twice emits the same output id, so consumers that
 * deduplicate on the id (the notifier, the run read model) see one event. A replay increments the run's attempt and
 * therefore gets new ids.
 *
 * @param id deterministic event id (a name-based UUID)
 * @param type e.g. {@code dev.conveyor.image.pushed.v1}
 * @param source the emitting stage, e.g. {@code /conveyor/image-builder}
 * @param subject the run id
 * @param time when the event occurred
 */
public record CloudEventAttributes(String id, String type, String source, String subject, Instant time) {

    /** CloudEvents spec version used. */
    public static final String SPEC_VERSION = "1.0";
    /** Content type of the data. */
    public static final String DATA_CONTENT_TYPE = "application/json";

    /** The attributes of an event emitted by {@code source}. */
    public static CloudEventAttributes of(ConveyorEvent event, Stage source) {
        return new CloudEventAttributes(idOf(event), event.eventType().type(), source.source(), event.run().runId(),
                event.occurredAt());
    }

    /**
     * The event's id: a name-based UUID over its type and its {@linkplain ConveyorEvent#identity() identity} — for
     * most types the run, attempt, cause and discriminator; for {@link RepoSynced}, {@link ReleaseHealthy} and
     * {@link ReleaseDegraded} the run, attempt and what it reached (GitOps repository, release), whatever triggered
     * the report and at whichever revision. Two events that differ only in {@code occurredAt} have the same id, on
     * purpose.
     */
    public static String idOf(ConveyorEvent event) {
        String name = event.eventType().type() + "\n" + event.identity();
        return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString();
    }
}
