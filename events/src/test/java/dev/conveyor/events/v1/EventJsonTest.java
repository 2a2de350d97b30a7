package dev.conveyor.events.v1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.node.ObjectNode;

class EventJsonTest {

    @ParameterizedTest
    @MethodSource("dev.conveyor.events.v1.SampleEvents#all")
    void everyEventRoundTrips(ConveyorEvent event) {
        byte[] json = EventJson.write(event);
        ConveyorEvent read = EventJson.read(json, event.eventType());
        assertThat(read).isEqualTo(event);
        assertThat(EventJson.write(read)).isEqualTo(json);
    }

    @Test
    void instantsAreIsoStringsAndAbsentOptionalsAreOmitted() {
        String json = EventJson.writeString(SampleEvents.all().get(0));
        assertThat(json).contains("\"occurredAt\":\"2026-11-23T10:15:30.123Z\"")
                .doesNotContain("causationId")
                .doesNotContain("pullRequest")
                .doesNotContain("eventType")
                .doesNotContain("discriminator");
    }

    @Test
    void unknownFieldsAreIgnored() throws Exception {
        ObjectNode json = tree(SampleEvents.all().get(3));
        json.put("addedLater", "x");
        ((ObjectNode) json.get("run")).putObject("alsoNew").put("a", 1);
        assertThat(EventJson.read(bytes(json), ImagePushed.class)).isEqualTo(SampleEvents.all().get(3));
    }

    @Test
    void everyMissingRequiredFieldIsNamedAtOnce() throws Exception {
        ObjectNode json = tree(SampleEvents.all().get(3));
        json.remove("digest");
        json.remove("sizeBytes");
        ((ObjectNode) json.get("run")).remove("commit");
        assertThatThrownBy(() -> EventJson.read(bytes(json), ImagePushed.class))
                .isInstanceOf(EventFormatException.class)
                .hasMessage("ImagePushed: missing required fields run.commit, digest, sizeBytes")
                .extracting(e -> ((EventFormatException) e).field()).isEqualTo("run.commit");
    }

    @Test
    void explicitNullCountsAsMissing() throws Exception {
        ObjectNode json = tree(SampleEvents.all().get(2));
        json.putNull("version");
        assertThatThrownBy(() -> EventJson.read(bytes(json), VersionResolved.class))
                .hasMessage("VersionResolved: missing required field version");
    }

    @Test
    void nestedInvalidValuesNameTheirPath() throws Exception {
        ObjectNode json = tree(SampleEvents.all().get(2));
        ((ObjectNode) json.get("artifact")).put("sha256", "not-a-sha");
        assertThatThrownBy(() -> EventJson.read(bytes(json), VersionResolved.class))
                .isInstanceOf(EventFormatException.class)
                .hasMessage(
                        "VersionResolved: invalid field 'artifact.sha256': must be 64 lower-case hex digits (a sha256)")
                .extracting(e -> ((EventFormatException) e).field()).isEqualTo("artifact.sha256");

        ObjectNode attempt = tree(SampleEvents.all().get(2));
        ((ObjectNode) attempt.get("run")).put("attempt", 0);
        assertThatThrownBy(() -> EventJson.read(bytes(attempt), VersionResolved.class))
                .hasMessage("VersionResolved: invalid field 'run.attempt': must be at least 1 but was 0");
    }

    @Test
    void wrongTypesAndUnknownEnumValuesAreRejectedWithTheirPath() throws Exception {
        ObjectNode json = tree(SampleEvents.all().get(3));
        ((ObjectNode) json.get("run")).put("flow", "NIGHTLY");
        assertThatThrownBy(() -> EventJson.read(bytes(json), ImagePushed.class))
                .isInstanceOf(EventFormatException.class)
                .hasMessageStartingWith("ImagePushed: invalid value at 'run.flow'");

        ObjectNode size = tree(SampleEvents.all().get(3));
        size.put("sizeBytes", "large");
        assertThatThrownBy(() -> EventJson.read(bytes(size), ImagePushed.class))
                .hasMessageStartingWith("ImagePushed: invalid value at 'sizeBytes'");
    }

    @Test
    void duplicateKeysTrailingGarbageAndNonObjectsAreRejected() {
        String dup = new String(EventJson.write(SampleEvents.all().get(3)), StandardCharsets.UTF_8)
                .replaceFirst("\\{", "{\"version\":\"6.6.6\",");
        assertThatThrownBy(() -> EventJson.read(dup.getBytes(StandardCharsets.UTF_8), ImagePushed.class))
                .isInstanceOf(EventFormatException.class).hasMessageContaining("Duplicate field 'version'");
        assertThatThrownBy(() -> EventJson.read("{} {}".getBytes(StandardCharsets.UTF_8), ImagePushed.class))
                .isInstanceOf(EventFormatException.class);
        assertThatThrownBy(() -> EventJson.read("[1]".getBytes(StandardCharsets.UTF_8), ImagePushed.class))
                .hasMessage("ImagePushed: the document must be a JSON object");
        assertThatThrownBy(() -> EventJson.read(new byte[0], ImagePushed.class))
                .hasMessage("ImagePushed: empty document");
    }

    @Test
    void oversizedDocumentsAreRefusedBeforeParsing() {
        byte[] huge = new byte[EventJson.MAX_DOCUMENT_BYTES + 1];
        assertThatThrownBy(() -> EventJson.read(huge, ImagePushed.class))
                .hasMessageContaining("exceeds the limit");
    }

    @Test
    void constructorsRejectInvalidEventsOnTheProducerSide() {
        PipelineRun run = SampleEvents.cdRun();
        assertThatThrownBy(() -> new ImagePushed(run, SampleEvents.AT, null, "1.0.0", "repo", java.util.List.of(),
                "sha256:xyz", 1))
                .isInstanceOf(InvalidFieldException.class).hasMessageContaining("'digest'");
        assertThatThrownBy(() -> new PipelineRun("r-1", 1, "app", "url", "c", "b", null, Flow.CI))
                .hasMessage("invalid field 'pullRequest': is required when flow is CI");
        assertThatThrownBy(() -> new ReleasePromoted(run, SampleEvents.AT, null, "c", "1", "g", "e", "n", "r", "x",
                PromotionMode.PULL_REQUEST, null))
                .isInstanceOf(MissingFieldException.class).hasMessage("missing required field 'pullRequestUrl'");
    }

    private static ObjectNode tree(ConveyorEvent event) throws Exception {
        return (ObjectNode) EventJson.mapper().readTree(EventJson.write(event));
    }

    private static byte[] bytes(ObjectNode json) throws Exception {
        return EventJson.mapper().writeValueAsBytes(json);
    }
}
