package dev.conveyor.gateway.domain;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.conveyor.events.v1.EventFormatException;
import dev.conveyor.events.v1.EventJson;
import dev.conveyor.events.v1.EventType;

/**
 * How run history is written down, on the gateway's disk and in the history topic: one document per recorded event
 * ({@code {"id", "source", "type", "audit", "data"}}, {@code data} being the event's JSON as on its topic), and a run's
 * snapshot: {@code {"runId", "events": [documents sorted by event id]}}.
 *
 * <p>
 * A snapshot is a pure function of the set of a run's events: two replicas that know the same events write the same
 * bytes, which is what makes writing it idempotent. Pure: values in, values out.
 */
public final class RunSnapshot {

    private static final ObjectMapper MAPPER = EventJson.mapper();

    private RunSnapshot() {
    }

    /** One recorded event as a document: its attributes, then the event's JSON as it is written on its topic. */
    public static byte[] encode(RecordedEvent recorded) {
        ObjectNode head = MAPPER.createObjectNode();
        head.put("id", recorded.id());
        head.put("source", recorded.source());
        head.put("type", recorded.type().type());
        ReplayAudit audit = recorded.audit();
        if (audit != null) {
            ObjectNode a = head.putObject("audit");
            a.put("by", audit.by());
            a.put("at", audit.at().toString());
            a.put("from", audit.from());
            a.put("attempt", audit.attempt());
        }
        try {
            byte[] attributes = MAPPER.writeValueAsBytes(head);
            byte[] data = EventJson.write(recorded.event());
            ByteArrayOutputStream out = new ByteArrayOutputStream(attributes.length + data.length + 8);
            out.write(attributes, 0, attributes.length - 1); // without its closing brace
            out.write(",\"data\":".getBytes(StandardCharsets.UTF_8));
            out.write(data);
            out.write('}');
            return out.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException("cannot write the document of event " + recorded.id(), e);
        }
    }

    /**
     * Reads a document written by {@link #encode}.
     *
     * @throws EventFormatException when it is not one (the field named)
     */
    public static RecordedEvent decode(byte[] doc) {
        try {
            return decode(MAPPER.readTree(doc));
        } catch (IOException e) {
            throw new EventFormatException(null, "run history: not a JSON document");
        }
    }

    private static RecordedEvent decode(JsonNode doc) throws IOException {
        String id = text(doc, "id");
        String type = text(doc, "type");
        EventType eventType = EventType.fromCloudEventType(type)
                .orElseThrow(() -> new EventFormatException("type", "run history: unknown event type '" + type + "'"));
        JsonNode data = doc.get("data");
        if (data == null || !data.isObject()) {
            throw new EventFormatException("data", "run history: event " + id + " has no data");
        }
        var event = EventJson.read(MAPPER.writeValueAsBytes(data), eventType);
        ReplayAudit audit = null;
        JsonNode a = doc.get("audit");
        if (a != null && a.isObject()) {
            audit = new ReplayAudit(text(a, "by"), Instant.parse(text(a, "at")), text(a, "from"),
                    a.path("attempt").asInt());
        }
        JsonNode source = doc.get("source");
        return new RecordedEvent(id, source == null || source.isNull() ? "" : source.asText(), event, audit);
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual()) {
            throw new EventFormatException(field, "run history: missing text field '" + field + "'");
        }
        return value.asText();
    }

    /**
     * A run's snapshot from its event documents, which must be sorted by event id (the caller's store keeps them so),
     * so that the same events always give the same bytes.
     */
    public static byte[] snapshot(String runId, List<byte[]> sortedDocs) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            out.write("{\"runId\":".getBytes(StandardCharsets.UTF_8));
            out.write(MAPPER.writeValueAsBytes(runId));
            out.write(",\"events\":[".getBytes(StandardCharsets.UTF_8));
            for (int i = 0; i < sortedDocs.size(); i++) {
                if (i > 0) {
                    out.write(',');
                }
                out.write(sortedDocs.get(i));
            }
            out.write("]}".getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("cannot write the snapshot of run " + runId, e);
        }
        return out.toByteArray();
    }

    /** The SHA-256 of a snapshot: equal snapshots are the same run history. */
    public static byte[] sha256(byte[] snapshot) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(snapshot);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /**
     * The events of a snapshot written by {@link #snapshot}.
     *
     * @throws EventFormatException when it is not one (the field named)
     */
    public static List<RecordedEvent> events(byte[] snapshot) {
        try {
            JsonNode root = MAPPER.readTree(snapshot);
            JsonNode events = root == null ? null : root.get("events");
            if (events == null || !events.isArray()) {
                throw new EventFormatException("events", "run snapshot: no events array");
            }
            List<RecordedEvent> recorded = new ArrayList<>(events.size());
            for (JsonNode doc : events) {
                recorded.add(decode(doc));
            }
            return recorded;
        } catch (IOException e) {
            throw new EventFormatException(null, "run snapshot: not a JSON document");
        }
    }
}
