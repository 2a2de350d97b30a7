package dev.conveyor.promoter.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serdes;
import org.junit.jupiter.api.Test;

import dev.conveyor.events.kafka.ConveyorEventDeserializer;
import dev.conveyor.events.kafka.ConveyorEventSerializer;
import dev.conveyor.events.v1.ChartPublished;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.EventType;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.PromotionMode;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.StageFailed;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.stage.warmup.WarmUpResult;
import dev.conveyor.stage.warmup.WarmUpStarter;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitServerResource;
import dev.conveyor.testkit.git.GitServers;
import dev.conveyor.testkit.git.InjectGitServers;
import dev.conveyor.testkit.kafka.KafkaBrokerResource;
import dev.conveyor.testkit.registry.InjectOciRegistry;
import dev.conveyor.testkit.registry.OciRegistry;
import dev.conveyor.testkit.registry.OciRegistryResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kafka.InjectKafkaCompanion;
import io.smallrye.reactive.messaging.kafka.companion.KafkaCompanion;

/**
 * The promoter as deployed: ManifestsValidated over a real broker in; ChartPublished (chart in the real registry) and
 * ReleasePromoted (commit in the GitOps repository on the git daemon) out; CI runs skipped; poison dead-lettered; a bad
 * chart answered with a terminal StageFailed.
 */
@QuarkusTest
@QuarkusTestResource(KafkaBrokerResource.class)
@QuarkusTestResource(GitServerResource.class)
@QuarkusTestResource(OciRegistryResource.class)
@TestProfile(PromoterMessagingIT.Targets.class)
class PromoterMessagingIT {

    static final String DIGEST = "sha256:" + "5e".repeat(32);

    /** One OCI chart repository and one GitOps target on the test servers. */
    public static class Targets implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "conveyor.promoter.chart-repositories.oci.type", "oci",
                    "conveyor.promoter.chart-repositories.oci.url", "oci://${conveyor.testkit.registry.host}/charts",
                    "conveyor.promoter.chart-repositories.oci.plain-http", "true",
                    "conveyor.promoter.targets.staging.gitops-repo", "${conveyor.testkit.git.daemon-url}gitops.git",
                    "conveyor.promoter.targets.staging.environment", "staging",
                    "conveyor.promoter.targets.staging.namespace", "shop");
        }
    }

    @InjectKafkaCompanion
    KafkaCompanion companion;

    @InjectGitServers
    GitServers git;

    @InjectOciRegistry
    OciRegistry registry;

    @Inject
    WarmUpStarter warmUp;

    @Test
    void theWarmUpRunsOnceAfterStartEmitsNothingPushesNothingAndLeavesNoScratchDirectory() throws Exception {
        WarmUpResult result = warmUp.result().toCompletableFuture().get(120, TimeUnit.SECONDS);
        System.out.printf("promoter warm-up: %s in %d ms%n", result.outcome(), result.took().toMillis());

        assertThat(result.failure()).isEmpty();
        assertThat(result.outcome()).isEqualTo(WarmUpResult.Outcome.DONE);
        // Everything on the stage's output topics so far: no record of the warm-up's run; the registry has no chart.
        List<ConsumerRecord<String, byte[]>> out = companion.consume(String.class, byte[].class)
                .fromTopics(Set.of(Topics.CHART_PUBLISHED, Topics.RELEASE_PROMOTED, Topics.STAGE_FAILED), Duration
                        .ofSeconds(5))
                .awaitCompletion(Duration.ofSeconds(30)).getRecords();
        assertThat(out).noneMatch(r -> "warm-up".equals(r.key()));
        assertThat(registry.tags("warm-up")).isEmpty();
        try (Stream<Path> left = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("conveyor-warm-up-"));
        }
    }

    ManifestsValidated validated(String app, BareRepo repo, String commit, Flow flow, String chartPath) {
        return new ManifestsValidated(PipelineRun.start(app, git.daemon().url(repo), commit, flow == Flow.CD
                ? "main"
                : "feature", flow == Flow.CD ? null : 12, flow), Instant.now(), null, "2.1.0",
                "registry.example.com/" + app, DIGEST, app, chartPath, null, 3, "sha256:" + "7a".repeat(32),
                flow == Flow.CI ? "diff" : null, 0);
    }

    static String chart(String name) {
        return "apiVersion: v2\nname: " + name + "\nversion: 0.0.0\n";
    }

    @Test
    void aCdRunIsPublishedAndPromotedAndACiRunIsSkipped() {
        companion.registerSerde(ConveyorEvent.class,
                Serdes.serdeFrom(new ConveyorEventSerializer(), new ConveyorEventDeserializer()));
        BareRepo gitops = git.repos().createBare("gitops");
        gitops.seed(Map.of("namespaces/shop.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"),
                "seed");
        BareRepo app = git.repos().createBare("orders");
        String commit = app.writer().file("chart/Chart.yaml", chart("orders")).file("chart/templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: orders\n").message("feat: chart").commit();
        ManifestsValidated ci = validated("orders", app, commit, Flow.CI, "chart");
        ManifestsValidated cd = validated("orders", app, commit, Flow.CD, "chart");

        companion.produce(String.class, ConveyorEvent.class).fromRecords(
                new ProducerRecord<>(Topics.MANIFESTS_VALIDATED, "orders", ci),
                new ProducerRecord<>(Topics.MANIFESTS_VALIDATED, "orders", cd)).awaitCompletion(
                        Duration.ofSeconds(
                                30));

        ConsumerRecord<String, ConveyorEvent> chart = companion.consume(String.class, ConveyorEvent.class)
                .fromTopics(Topics.CHART_PUBLISHED, 1).awaitCompletion(Duration.ofSeconds(90)).getFirstRecord();
        ChartPublished published = (ChartPublished) chart.value();
        assertThat(chart.key()).isEqualTo("orders");
        assertThat(new String(chart.headers().lastHeader("ce_type").value(), StandardCharsets.UTF_8))
                .isEqualTo(EventType.CHART_PUBLISHED.type());
        assertThat(published.run().runId()).isEqualTo(cd.run().runId());
        assertThat(published.repositories()).containsExactly("oci://" + registry.host() + "/charts");
        assertThat(registry.manifest("charts/orders", "2.1.0")).contains(published.chartDigest());

        ConsumerRecord<String, ConveyorEvent> release = companion.consume(String.class, ConveyorEvent.class)
                .fromTopics(Topics.RELEASE_PROMOTED, 1).awaitCompletion(Duration.ofSeconds(60)).getFirstRecord();
        ReleasePromoted promoted = (ReleasePromoted) release.value();
        assertThat(promoted.run().runId()).isEqualTo(cd.run().runId());
        assertThat(promoted.mode()).isEqualTo(PromotionMode.AUTO);
        assertThat(promoted.release()).isEqualTo("orders");
        assertThat(promoted.gitopsCommit()).isEqualTo(gitops.head("main").orElseThrow());
        assertThat(gitops.commits().get(0).shortMessage()).isEqualTo("Promote orders 2.1.0 to staging/shop");
        assertThat(new String(release.headers().lastHeader("ce_source").value(), StandardCharsets.UTF_8))
                .isEqualTo("/conveyor/promoter");
    }

    @Test
    void poisonIsDeadLetteredAndABadChartIsATerminalStageFailed() {
        companion.registerSerde(ConveyorEvent.class,
                Serdes.serdeFrom(new ConveyorEventSerializer(), new ConveyorEventDeserializer()));
        BareRepo app = git.repos().createBare("broken");
        String commit = app.writer().file("chart/Chart.yaml", chart("something-else")).message("fix: chart")
                .commit();
        ManifestsValidated cd = validated("broken", app, commit, Flow.CD, "chart");
        companion.produce(String.class, byte[].class).fromRecords(
                new ProducerRecord<>(Topics.MANIFESTS_VALIDATED, null, "broken",
                        "{\"not\":\"an event\"}".getBytes(StandardCharsets.UTF_8), new RecordHeaders()))
                .awaitCompletion(Duration.ofSeconds(30));
        companion.produce(String.class, ConveyorEvent.class)
                .fromRecords(new ProducerRecord<>(Topics.MANIFESTS_VALIDATED, "broken", cd))
                .awaitCompletion(Duration.ofSeconds(30));

        ConsumerRecord<String, byte[]> dead = companion.consume(String.class, byte[].class)
                .fromTopics(Topics.MANIFESTS_VALIDATED + ".dlq.promoter", 1).awaitCompletion(Duration.ofSeconds(60))
                .getFirstRecord();
        assertThat(new String(dead.headers().lastHeader("dead-letter-reason").value(), StandardCharsets.UTF_8))
                .contains("missing required fields");

        StageFailed failed = (StageFailed) companion.consume(String.class, ConveyorEvent.class)
                .fromTopics(Topics.STAGE_FAILED, 1).awaitCompletion(Duration.ofSeconds(60)).getFirstRecord().value();
        assertThat(failed.reason()).isEqualTo("CHART_INVALID");
        assertThat(failed.retryable()).isFalse();
        assertThat(failed.message()).contains("something-else");
        assertThat(failed.run().runId()).isEqualTo(cd.run().runId());
    }
}
