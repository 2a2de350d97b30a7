package dev.conveyor.testkit.cdevents;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;

/**
 * The CDEvents v0.4.1 JSON Schemas the mirror's events must satisfy (resources under {@code cdevents/0.4.1}, the
 * required parts of each event type written from the specification), chosen by the document's {@code context.type}.
 * Formats (date-time, uuid, uri-reference) are asserted, not only annotated.
 */
public final class CdEventSchemas {

    /** The CDEvents specification version the schemas are written from. */
    public static final String SPEC_VERSION = "0.4.1";

    private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
    private static final SchemaValidatorsConfig CONFIG = SchemaValidatorsConfig.builder().formatAssertionsEnabled(true)
            .build();
    private static final Map<String, JsonSchema> SCHEMAS = new ConcurrentHashMap<>();

    private CdEventSchemas() {
    }

    /** Every violation of the schema for the document's type; a type with no schema here is itself a violation. */
    public static Set<String> violations(JsonNode document) {
        String type = document.path("context").path("type").asText("");
        String resource = resourceOf(type);
        if (CdEventSchemas.class.getResource(resource) == null) {
            return Set.of("no CDEvents schema for type '" + type + "' (" + resource + ")");
        }
        JsonSchema schema = SCHEMAS.computeIfAbsent(resource, CdEventSchemas::load);
        return schema.validate(document).stream().map(ValidationMessage::getMessage)
                .collect(java.util.stream.Collectors.toSet());
    }

    /** {@code dev.cdevents.artifact.packaged.0.2.0} → {@code /cdevents/0.4.1/artifact-packaged.schema.json}. */
    public static String resourceOf(String type) {
        String[] parts = type.split("\\.");
        String name = parts.length > 3 ? parts[2] + "-" + parts[3] : type;
        return "/cdevents/" + SPEC_VERSION + "/" + name + ".schema.json";
    }

    private static JsonSchema load(String resource) {
        try (InputStream in = CdEventSchemas.class.getResourceAsStream(resource)) {
            return FACTORY.getSchema(in, CONFIG);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
