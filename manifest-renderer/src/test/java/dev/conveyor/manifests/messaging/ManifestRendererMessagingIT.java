package dev.conveyor.manifests.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
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
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.EventType;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.StageFailed;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.manifests.service.TestCharts;
import dev.conveyor.stage.warmup.WarmUpResult;
import dev.conveyor.stage.warmup.WarmUpStarter;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitServerResource;
import dev.conveyor.testkit.git.GitServers;
import dev.conveyor.testkit.git.InjectGitServers;
import dev.conveyor.testkit.kafka.KafkaBrokerResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kafka.InjectKafkaCompanion;
import io.smallrye.reactive.messaging.kafka.companion.KafkaCompanion;

/** The manifest renderer as deployed: ImagePushed over a real broker in, ManifestsValidated out, poison to its DLQ. */
@QuarkusTest
@QuarkusTestResource(KafkaBrokerResource.class)
@QuarkusTestResource(GitServerResource.class)
class ManifestRendererMessagingIT {

    static final String DIGEST = "sha256:" + "ab".repeat(32);

    @InjectKafkaCompanion
    KafkaCompanion companion;

    @InjectGitServers
    GitServers git;

    @Inject
    WarmUpStarter warmUp;

    @Test
    void theWarmUpRunsOnceAfterStartEmitsNothingAndLeavesNoScratchDirectory() throws Exception {
        WarmUpResult result = warmUp.result().toCompletableFuture().get(120, TimeUnit.SECONDS);
        System.out.printf("manifest-renderer warm-up: %s in %d ms%n", result.outcome(), result.took().toMillis());

        assertThat(result.failure()).isEmpty();
        assertThat(result.outcome()).isEqualTo(WarmUpResult.Outcome.DONE);
        // Everything on the stage's output topics so far: no record of the warm-up's run.
        List<ConsumerRecord<String, byte[]>> out = companion.consume(String.class, byte[].class)
                .fromTopics(Set.of(Topics.MANIFESTS_VALIDATED, Topics.STAGE_FAILED), Duration.ofSeconds(5))
                .awaitCompletion(Duration.ofSeconds(30)).getRecords();
        assertThat(out).noneMatch(r -> "warm-up".equals(r.key()));
        try (Stream<Path> left = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("conveyor-warm-up-"));
        }
    }

    private void serde() {
        companion.registerSerde(ConveyorEvent.class,
                Serdes.serdeFrom(new ConveyorEventSerializer(), new ConveyorEventDeserializer()));
    }

    private ImagePushed pushed(BareRepo repo, String commit) {
        return new ImagePushed(PipelineRun.start(repo.name(), git.daemon().url(repo), commit, "main", null, Flow.CD),
                Instant.now(), null, "3.1.0", "registry.example.com/team/" + repo.name(), List.of("3.1.0"), DIGEST,
                42);
    }

    @Test
    void anImagePushedOnTheDefaultBranchIsRenderedValidatedAndCommitted() {
        serde();
        BareRepo repo = git.repos().createBare("messaging-shop");
        var writer = repo.writer().message("feat: chart");
        TestCharts.helmCreate("messaging-shop", "chart").forEach(writer::file);
        String head = writer.commit();
        ImagePushed image = pushed(repo, head);

        companion.produce(String.class, ConveyorEvent.class)
                .fromRecords(new ProducerRecord<>(Topics.IMAGE_PUSHED, image.run().app(), image))
                .awaitCompletion(Duration.ofSeconds(30));

        ConsumerRecord<String, ConveyorEvent> out = companion.consume(String.class, ConveyorEvent.class)
                .fromTopics(Topics.MANIFESTS_VALIDATED, 1).awaitCompletion(Duration.ofSeconds(90)).getFirstRecord();
        ManifestsValidated validated = (ManifestsValidated) out.value();
        assertThat(out.key()).isEqualTo("messaging-shop");
        assertThat(new String(out.headers().lastHeader("ce_type").value(), StandardCharsets.UTF_8))
                .isEqualTo(EventType.MANIFESTS_VALIDATED.type());
        assertThat(validated.objectCount()).isEqualTo(4); // with helm create's test Pod
        assertThat(validated.imageDigest()).isEqualTo(DIGEST);
        assertThat(validated.chartName()).isEqualTo("messaging-shop");
        assertThat(validated.manifestsCommit()).isNotNull();
        assertThat(repo.commits().get(0).id()).isEqualTo(validated.manifestsCommit());
        assertThat(repo.commits().get(0).shortMessage()).isEqualTo("chore(manifests): render 3.1.0 [skip ci]");
    }

    @Test
    void invalidManifestsAreATerminalStageFailedAndPoisonIsDeadLettered() {
        serde();
        BareRepo repo = git.repos().createBare("messaging-invalid");
        var writer = repo.writer().message("feat: widgets");
        TestCharts.withCrd("chart", "size: big").forEach(writer::file);
        String head = writer.commit();
        ImagePushed image = pushed(repo, head);
        companion.produce(String.class, byte[].class).fromRecords(
                new ProducerRecord<>(Topics.IMAGE_PUSHED, null, "messaging-invalid",
                        "{\"not\":\"an event\"}".getBytes(StandardCharsets.UTF_8), new RecordHeaders()))
                .awaitCompletion(Duration.ofSeconds(30));
        companion.produce(String.class, ConveyorEvent.class)
                .fromRecords(new ProducerRecord<>(Topics.IMAGE_PUSHED, image.run().app(), image))
                .awaitCompletion(Duration.ofSeconds(30));

        ConsumerRecord<String, byte[]> dead = companion.consume(String.class, byte[].class)
                .fromTopics(Topics.deadLetter(Topics.IMAGE_PUSHED, Stage.MANIFEST_RENDERER), 1)
                .awaitCompletion(Duration.ofSeconds(60)).getFirstRecord();
        assertThat(new String(dead.headers().lastHeader("dead-letter-reason").value(), StandardCharsets.UTF_8))
                .contains("missing required fields run");

        StageFailed failed = (StageFailed) companion.consume(String.class, ConveyorEvent.class)
                .fromTopics(Topics.STAGE_FAILED, 1).awaitCompletion(Duration.ofSeconds(90)).getFirstRecord().value();
        assertThat(failed.stage()).isEqualTo(Stage.MANIFEST_RENDERER);
        assertThat(failed.reason()).isEqualTo("INVALID_MANIFESTS");
        assertThat(failed.retryable()).isFalse();
        assertThat(failed.message()).containsPattern("widgets/templates/widget.yaml \\(document \\d+, line \\d+\\): "
                + "Widget messaging-invalid: spec.size: expected integer, got string");
        assertThat(failed.details()).containsEntry("problems", "1").containsEntry("chartPath", "chart");
        assertThat(repo.commits()).hasSize(1);
    }
}
