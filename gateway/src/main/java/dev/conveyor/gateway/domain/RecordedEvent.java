package dev.conveyor.gateway.domain;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.EventType;

/**
 * An event as read from the log.
 *
 * @param id its CloudEvents id (deterministic: the same event delivered twice has the same id)
 * @param source its CloudEvents source, e.g. {@code /conveyor/versioner}; {@code /conveyor/gateway} for hooks and
 *     replays
 * @param event the event
 * @param audit who replayed it, when and from where, for an event a replay re-published; otherwise null
 */
public record RecordedEvent(String id, String source, ConveyorEvent event, ReplayAudit audit) {

    /** An event that no replay re-published. */
    public RecordedEvent(String id, String source, ConveyorEvent event) {
        this(id, source, event, null);
    }

    /** Source of events the gateway publishes: hooks and replays. */
    public static final String GATEWAY_SOURCE = "/conveyor/gateway";

    public EventType type() {
        return event.eventType();
    }
}
