package dev.conveyor.events.cdevents;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.conveyor.events.v1.BuildFailed;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.CloudEventAttributes;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.EventJson;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.SampleEvents;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.TestSummary;
import dev.conveyor.testkit.cdevents.CdEventSchemas;

/** The CDEvents mapping: which CDEvents each Conveyor event gives, and that every one of them is valid CDEvents. */
class CdEventsTest {

    static List<CdEvent> mirror(ConveyorEvent event) {
        return CdEvents.of(event, CloudEventAttributes.idOf(event), Stage.GATEWAY.source());
    }

    @Test
    void theSchemasAreThoseOfTheSpecificationVersionTheEventsDeclare() {
        assertThat(CdEventSchemas.SPEC_VERSION).isEqualTo(CdEvents.SPEC_VERSION);
    }

    @Test
    void everyConveyorEventGivesItsMappedCdEventsAndEachValidatesAgainstItsSchema() throws Exception {
        Map<String, List<String>> types = SampleEvents.all().stream().collect(Collectors.toMap(
                e -> e.eventType().eventName(), e -> mirror(e).stream().map(CdEvent::type).toList()));

        assertThat(types).containsEntry("BuildSucceeded",
                List.of(CdEvents.CHANGE_MERGED, CdEvents.BUILD_FINISHED, CdEvents.TESTSUITERUN_FINISHED))
                // the sample failure is a pull request's: no merge
                .containsEntry("BuildFailed", List.of(CdEvents.BUILD_FINISHED, CdEvents.TESTSUITERUN_FINISHED))
                .containsEntry("ImagePushed", List.of(CdEvents.ARTIFACT_PACKAGED, CdEvents.ARTIFACT_PUBLISHED))
                .containsEntry("ChartPublished", List.of(CdEvents.ARTIFACT_PUBLISHED))
                .containsEntry("RepoSynced", List.of(CdEvents.ENVIRONMENT_MODIFIED))
                .containsEntry("ReleaseHealthy", List.of(CdEvents.SERVICE_DEPLOYED))
                .containsEntry("ReleaseDegraded", List.of(CdEvents.INCIDENT_DETECTED))
                .containsEntry("VersionResolved", List.of()).containsEntry("ManifestsValidated", List.of())
                .containsEntry("ReleasePromoted", List.of()).containsEntry("StageFailed", List.of());

        for (ConveyorEvent event : SampleEvents.all()) {
            for (CdEvent cd : mirror(event)) {
                JsonNode written = EventJson.mapper().readTree(cd.json());
                assertThat(CdEventSchemas.violations(written)).as("%s from %s: %s", cd.type(), event.eventType(),
                        written).isEmpty();
                assertThat(written.at("/context/id").asText()).isEqualTo(cd.id());
                assertThat(written.at("/context/source").asText()).isEqualTo("/conveyor/gateway");
                assertThat(written.at("/context/timestamp").asText()).isEqualTo(event.occurredAt().toString());
            }
        }
    }

    @Test
    void everyCdEventOfARunCarriesTheRunAsItsChainAndInItsCustomData() throws Exception {
        List<ConveyorEvent> run = SampleEvents.all().stream()
                .filter(e -> e.run().runId().equals(SampleEvents.cdRun().runId())).toList();
        List<CdEvent> mirrored = run.stream().flatMap(e -> mirror(e).stream()).toList();

        assertThat(mirrored).hasSizeGreaterThan(8).extracting(CdEvent::chainId)
                .containsOnly(CdEvents.chainId(SampleEvents.cdRun().runId()));
        for (CdEvent cd : mirrored) {
            JsonNode json = EventJson.mapper().readTree(cd.json());
            assertThat(json.at("/context/chainId").asText()).isEqualTo(cd.chainId());
            assertThat(json.at("/customData/conveyor/runId").asText()).isEqualTo(SampleEvents.cdRun().runId());
            assertThat(json.at("/customData/conveyor/attempt").asInt()).isEqualTo(1);
            assertThat(json.path("customDataContentType").asText()).isEqualTo("application/json");
        }
        assertThat(mirrored).extracting(CdEvent::id).doesNotHaveDuplicates();
        assertThat(run.stream().flatMap(e -> mirror(e).stream()).map(CdEvent::id).toList())
                .as("the same Conveyor event mirrors to the same ids").isEqualTo(
                        mirrored.stream().map(CdEvent::id).toList());
    }

    @Test
    void theImageIsAnOciPackageUrlAndItsPublicationFollowsItsPackaging() throws Exception {
        ImagePushed image = (ImagePushed) SampleEvents.all().stream().filter(ImagePushed.class::isInstance)
                .findFirst().orElseThrow();

        List<CdEvent> cds = mirror(image);

        String purl = "pkg:oci/shop-api@sha256%3A" + SampleEvents.SHA
                + "?repository_url=registry.example.com/acme/shop-api&tag=1.4.0";
        assertThat(cds).extracting(CdEvent::subjectId).containsOnly(purl);
        JsonNode packaged = EventJson.mapper().readTree(cds.get(0).json());
        JsonNode published = EventJson.mapper().readTree(cds.get(1).json());
        assertThat(packaged.at("/subject/content/change/id").asText()).isEqualTo(image.run().commit());
        assertThat(packaged.at("/context/links").isMissingNode()).isTrue();
        assertThat(published.at("/context/links/0/linkType").asText()).isEqualTo("PATH");
        assertThat(published.at("/context/links/0/from/contextId").asText()).isEqualTo(cds.get(0).id());
    }

    @Test
    void testsBecomeATestSuiteRunWhoseOutcomeIsTheirs() throws Exception {
        BuildSucceeded clean = (BuildSucceeded) SampleEvents.all().get(0);
        BuildFailed failed = (BuildFailed) SampleEvents.all().get(1);
        BuildSucceeded noTests = new BuildSucceeded(clean.run(), clean.occurredAt(), null, clean.buildUrl(),
                clean.artifact(), null, null);
        BuildFailed lintFailed = new BuildFailed(failed.run(), failed.occurredAt(), null, failed.buildUrl(), "lint",
                "3 lint errors", new TestSummary(120, 0, 3, 3, 0), null);

        assertThat(suite(clean).at("/subject/content/outcome").asText()).isEqualTo("pass");
        assertThat(suite(failed).at("/subject/content/outcome").asText()).isEqualTo("fail");
        assertThat(suite(failed).at("/subject/content/reason").asText()).isEqualTo("2 of 123 tests failed");
        assertThat(suite(lintFailed).at("/subject/content/outcome").asText()).isEqualTo("pass");
        assertThat(mirror(noTests)).extracting(CdEvent::type).doesNotContain(CdEvents.TESTSUITERUN_FINISHED);
    }

    @Test
    void theSchemasRejectWhatTheSpecificationDoesNotAllow() throws Exception {
        ImagePushed image = (ImagePushed) SampleEvents.all().get(3);
        ObjectNode packaged = (ObjectNode) EventJson.mapper().readTree(mirror(image).get(0).json());

        ObjectNode noChange = packaged.deepCopy();
        ((ObjectNode) noChange.at("/subject/content")).remove("change");
        ObjectNode badChain = packaged.deepCopy();
        ((ObjectNode) badChain.get("context")).put("chainId", SampleEvents.cdRun().runId());
        ObjectNode notPurl = packaged.deepCopy();
        ((ObjectNode) notPurl.get("subject")).put("id", "registry.example.com/acme/shop-api:1.4.0");
        ObjectNode unknownType = packaged.deepCopy();
        ((ObjectNode) unknownType.get("context")).put("type", "dev.cdevents.artifact.packaged.9.9.9");
        ObjectNode badTime = packaged.deepCopy();
        ((ObjectNode) badTime.get("context")).put("timestamp", "yesterday");

        assertThat(CdEventSchemas.violations(packaged)).isEmpty();
        assertThat(CdEventSchemas.violations(noChange)).isNotEmpty();
        assertThat(CdEventSchemas.violations(badChain)).isNotEmpty();
        assertThat(CdEventSchemas.violations(notPurl)).isNotEmpty();
        assertThat(CdEventSchemas.violations(unknownType)).isNotEmpty();
        assertThat(CdEventSchemas.violations(badTime)).isNotEmpty();
    }

    @Test
    void anScpLikeRepositoryBecomesAnSshUriSoTheSourcesStayUriReferences() throws Exception {
        PipelineRun run = PipelineRun.start("shop-api", "git@git.example.com:acme/shop-api.git",
                "2f1e3d4c5b6a798081726354453627181909a0b1", "main", null, Flow.CD);
        BuildSucceeded build = new BuildSucceeded(run, SampleEvents.AT, null, "https://jenkins.example.com/job/1/",
                SampleEvents.artifact(), new TestSummary(1, 0, 0, 0, 0), null);
        ImagePushed image = new ImagePushed(run, SampleEvents.AT, "c", "1.0.0", "registry.example.com/acme/shop-api",
                List.of("1.0.0"), SampleEvents.DIGEST, 1L);

        for (ConveyorEvent event : List.of(build, image)) {
            for (CdEvent cd : mirror(event)) {
                assertThat(CdEventSchemas.violations(EventJson.mapper().readTree(cd.json()))).as(cd.type()).isEmpty();
            }
        }
        assertThat(EventJson.mapper().readTree(mirror(image).get(0).json()).at("/subject/content/change/source")
                .asText()).isEqualTo("ssh://git@git.example.com/acme/shop-api.git");
        assertThat(CdEvents.uriReference("https://git.example.com/acme/shop-api.git"))
                .isEqualTo("https://git.example.com/acme/shop-api.git");
    }

    static JsonNode suite(ConveyorEvent build) throws Exception {
        CdEvent suite = mirror(build).stream().filter(cd -> cd.type().equals(CdEvents.TESTSUITERUN_FINISHED))
                .findFirst().orElseThrow();
        return EventJson.mapper().readTree(suite.json());
    }
}
