package dev.conveyor.events.cdevents;

import java.time.Instant;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.conveyor.events.v1.EventJson;

/**
 * One CDEvent (spec {@value CdEvents#SPEC_VERSION}) mirrored from a Conveyor event: its context attributes, which
 * double as the CloudEvents attributes it travels with, and the whole document ({@code context}, {@code subject},
 * {@code customData}), which is the CloudEvent's data.
 *
 * @param id the context id, a name-based UUID of the CDEvent type and the Conveyor event's id
 * @param type e.g. {@code dev.cdevents.artifact.published.0.2.0}
 * @param source the context source: the Conveyor stage that emitted the original event
 * @param subjectId the subject's id, also the CloudEvent's {@code subject}
 * @param timestamp when it happened (the Conveyor event's {@code occurredAt})
 * @param chainId the run's chain id: every CDEvent of one Conveyor run shares it
 * @param document the CDEvent as JSON
 */
public record CdEvent(String id, String type, String source, String subjectId, Instant timestamp, String chainId,
        ObjectNode document) {

    /** The document as UTF-8 JSON bytes. */
    public byte[] json() {
        try {
            return EventJson.mapper().writeValueAsBytes(document);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write CDEvent " + type, e);
        }
    }
}
