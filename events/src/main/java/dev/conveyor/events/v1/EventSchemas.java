package dev.conveyor.events.v1;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The published JSON Schema of each event's data, for consumers that are not written in Java. The files live in this
 * jar under {@value #RESOURCE_DIR} and in the source tree under {@code events/src/main/resources}.
 */
public final class EventSchemas {

    /** Classpath directory of the schema files, one {@code <EventName>.schema.json} per event. */
    public static final String RESOURCE_DIR = "/dev/conveyor/events/schemas/v1/";
    /** Base of every schema's {@code $id}. */
    public static final String SCHEMA_ID_BASE = "https://conveyor.dev/schemas/v1/";

    private EventSchemas() {
    }

    /** The classpath resource name of the event's schema. */
    public static String resourceName(EventType type) {
        return RESOURCE_DIR + type.eventName() + ".schema.json";
    }

    /** The event's schema document. */
    public static String schema(EventType type) {
        try (InputStream in = EventSchemas.class.getResourceAsStream(resourceName(type))) {
            if (in == null) {
                throw new IllegalStateException("schema " + resourceName(type) + " is missing from the events jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resourceName(type), e);
        }
    }
}
