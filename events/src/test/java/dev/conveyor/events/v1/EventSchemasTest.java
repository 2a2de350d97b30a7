package dev.conveyor.events.v1;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;

/**
 * The published schemas match the records, and every event as written validates against its schema. Run with
 * {@code -Dconveyor.schemas.write=true} after changing a record to rewrite the files.
 */
class EventSchemasTest {

    private static final Path SOURCE_DIR = Path.of("src/main/resources" + EventSchemas.RESOURCE_DIR);
    private static final ObjectMapper PRETTY = EventJson.mapper().copy().enable(SerializationFeature.INDENT_OUTPUT);
    private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);

    @ParameterizedTest
    @EnumSource(EventType.class)
    void publishedSchemaMatchesTheRecord(EventType type) throws Exception {
        String generated = PRETTY.writeValueAsString(SchemaGenerator.schemaOf(type)) + "\n";
        Path file = SOURCE_DIR.resolve(type.eventName() + ".schema.json");
        if (Boolean.getBoolean("conveyor.schemas.write")) {
            Files.createDirectories(SOURCE_DIR);
            Files.writeString(file, generated, StandardCharsets.UTF_8);
        }
        assertThat(EventSchemas.schema(type))
                .as("%s is out of date: rerun with -Dconveyor.schemas.write=true", file)
                .isEqualTo(generated);
    }

    @ParameterizedTest
    @MethodSource("dev.conveyor.events.v1.SampleEvents#all")
    void everyEventValidatesAgainstItsSchema(ConveyorEvent event) throws Exception {
        JsonNode json = EventJson.mapper().readTree(EventJson.write(event));
        assertThat(validate(event.eventType(), json)).isEmpty();
    }

    @Test
    void schemaRejectsMissingRequiredFieldsBadEnumsAndBadDigests() throws Exception {
        ConveyorEvent pushed = SampleEvents.all().get(3);
        ObjectNode json = (ObjectNode) EventJson.mapper().readTree(EventJson.write(pushed));

        ObjectNode missing = json.deepCopy();
        missing.remove("digest");
        ((ObjectNode) missing.get("run")).remove("commit");
        assertThat(validate(EventType.IMAGE_PUSHED, missing)).extracting(ValidationMessage::getMessage)
                .anySatisfy(m -> assertThat(m).contains("digest"))
                .anySatisfy(m -> assertThat(m).contains("commit"));

        ObjectNode badEnum = json.deepCopy();
        ((ObjectNode) badEnum.get("run")).put("flow", "NIGHTLY");
        assertThat(validate(EventType.IMAGE_PUSHED, badEnum)).isNotEmpty();

        ObjectNode badDigest = json.deepCopy();
        badDigest.put("digest", "md5:abc");
        assertThat(validate(EventType.IMAGE_PUSHED, badDigest)).isNotEmpty();

        ObjectNode extra = json.deepCopy();
        extra.put("addedInALaterMinorVersion", true);
        assertThat(validate(EventType.IMAGE_PUSHED, extra)).isEmpty();
    }

    private static Set<ValidationMessage> validate(EventType type, JsonNode json) {
        JsonSchema schema = FACTORY.getSchema(EventSchemas.schema(type));
        return schema.validate(json);
    }
}
