package dev.conveyor.imagebuilder.messaging;

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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.conveyor.events.kafka.ConveyorEventDeserializer;
import dev.conveyor.events.kafka.ConveyorEventSerializer;
import dev.conveyor.events.v1.Artifact;
import dev.conveyor.events.v1.BumpReason;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.EventType;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.StageFailed;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.imagebuilder.support.Artifacts;
import dev.conveyor.stage.warmup.WarmUpResult;
import dev.conveyor.stage.warmup.WarmUpStarter;
import dev.conveyor.testkit.TempDirs;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitServerResource;
import dev.conveyor.testkit.git.GitServers;
import dev.conveyor.testkit.git.InjectGitServers;
import dev.conveyor.testkit.kafka.KafkaBrokerResource;
import dev.conveyor.testkit.registry.InjectOciRegistry;
import dev.conveyor.testkit.registry.OciRegistry;
import dev.conveyor.testkit.registry.OciRegistryResource;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kafka.InjectKafkaCompanion;
import io.smallrye.reactive.messaging.kafka.companion.KafkaCompanion;

/** The image builder as deployed: VersionResolved over a real broker in, ImagePushed out, poison to its DLQ. */
@QuarkusTest
@QuarkusTestResource(KafkaBrokerResource.class)
@QuarkusTestResource(OciRegistryResource.class)
@QuarkusTestResource(GitServerResource.class)
class ImageBuilderMessagingIT {

    @InjectKafkaCompanion
    KafkaCompanion companion;

    @InjectGitServers
    GitServers git;

    @InjectOciRegistry
    OciRegistry registry;

    @Inject
    MeterRegistry meters;

    Path scratch = TempDirs.create("image-builder-messaging");

    @AfterEach
    void clean() {
        TempDirs.deleteQuietly(scratch);
    }

    @Inject
    WarmUpStarter warmUp;

    @Test
    void theWarmUpRunsOnceAfterStartEmitsNothingPushesNothingAndLeavesNoScratchDirectory() throws Exception {
        WarmUpResult result = warmUp.result().toCompletableFuture().get(120, TimeUnit.SECONDS);
        System.out.printf("image-builder warm-up: %s in %d ms%n", result.outcome(), result.took().toMillis());

        assertThat(result.failure()).isEmpty();
        assertThat(result.outcome()).isEqualTo(WarmUpResult.Outcome.DONE);
        // Everything on the stage's output topics so far: no record of the warm-up's run; the registry has no image.
        List<ConsumerRecord<String, byte[]>> out = companion.consume(String.class, byte[].class)
                .fromTopics(Set.of(Topics.IMAGE_PUSHED, Topics.STAGE_FAILED), Duration.ofSeconds(5))
                .awaitCompletion(Duration.ofSeconds(30)).getRecords();
        assertThat(out).noneMatch(r -> "warm-up".equals(r.key()));
        assertThat(registry.tags("warm-up")).isEmpty();
        try (Stream<Path> left = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("conveyor-warm-up-"));
        }
    }

    @Test
    void aResolvedVersionBecomesAPushedImageAndARedeliveryPushesNothing() {
        serde();
        BareRepo repo = git.repos().createBare("kafka-shop");
        String commit = repo.writer().file(".conveyor.yaml", "image:\n  ports: [8080]\n").message("feat: shop")
                .commit();
        Path jar = Artifacts.fatJar(scratch.resolve("app.jar"), "com.example.Main", 3, 2, 1024,
                1);
        VersionResolved version = new VersionResolved(
                PipelineRun.start("kafka-shop", git.daemon().url(repo), commit, "main", null, Flow.CD),
                Instant.now(), null, "1.3.0", "v1.3.0", true, "1.2.0", BumpReason.MINOR, List.of("feat: shop"),
                new Artifact(jar.toUri().toString(), Artifacts.sha256(jar), null, "jar"));

        produce(version);
        ConsumerRecord<String, ConveyorEvent> out = companion.consume(String.class, ConveyorEvent.class)
                .fromTopics(Topics.IMAGE_PUSHED, 1).awaitCompletion(Duration.ofSeconds(90)).getFirstRecord();
        ImagePushed pushed = (ImagePushed) out.value();
        assertThat(out.key()).isEqualTo("kafka-shop");
        assertThat(new String(out.headers().lastHeader("ce_type").value(), StandardCharsets.UTF_8))
                .isEqualTo(EventType.IMAGE_PUSHED.type());
        assertThat(pushed.version()).isEqualTo("1.3.0");
        assertThat(pushed.repository()).isEqualTo(registry.host() + "/kafka-shop");
        assertThat(pushed.tags()).containsExactly("1.3.0", commit.substring(0, 7), "latest");
        assertThat(registry.manifestDigest("kafka-shop", "1.3.0")).contains(pushed.digest());

        produce(version);
        List<ConsumerRecord<String, ConveyorEvent>> both = companion.consume(String.class, ConveyorEvent.class)
                .fromTopics(Topics.IMAGE_PUSHED, 2).awaitCompletion(Duration.ofSeconds(90)).getRecords();
        assertThat(both).extracting(r -> ((ImagePushed) r.value()).digest()).containsOnly(pushed.digest());
        assertThat(meters.counter(VersionResolvedConsumer.PUSHES_METRIC, "outcome", "pushed").count()).isEqualTo(1);
        assertThat(meters.counter(VersionResolvedConsumer.PUSHES_METRIC, "outcome", "skipped").count())
                .isEqualTo(1);
    }

    @Test
    void aChecksumMismatchIsATerminalStageFailedAndPoisonIsDeadLettered() {
        serde();
        BareRepo repo = git.repos().createBare("kafka-bad");
        String commit = repo.writer().file("README.md", "x").message("feat: bad").commit();
        Path jar = Artifacts.fatJar(scratch.resolve("app.jar"), "com.example.Main", 1, 1, 64, 1);
        VersionResolved version = new VersionResolved(
                PipelineRun.start("kafka-bad", git.daemon().url(repo), commit, "main", null, Flow.CD), Instant.now(),
                null, "0.1.0", "v0.1.0", true, null, BumpReason.INITIAL, List.of(),
                new Artifact(jar.toUri().toString(), "ef".repeat(32), null, "jar"));
        companion.produce(String.class, byte[].class).fromRecords(
                new ProducerRecord<>(Topics.VERSION_RESOLVED, null, "kafka-bad",
                        "{\"not\":\"an event\"}".getBytes(StandardCharsets.UTF_8), new RecordHeaders()))
                .awaitCompletion(Duration.ofSeconds(30));
        produce(version);

        ConsumerRecord<String, byte[]> dead = companion.consume(String.class, byte[].class)
                .fromTopics(Topics.deadLetter(Topics.VERSION_RESOLVED, Stage.IMAGE_BUILDER), 1)
                .awaitCompletion(Duration.ofSeconds(60)).getFirstRecord();
        assertThat(new String(dead.headers().lastHeader("dead-letter-reason").value(), StandardCharsets.UTF_8))
                .contains("missing required fields run");

        StageFailed failed = (StageFailed) companion.consume(String.class, ConveyorEvent.class)
                .fromTopics(Topics.STAGE_FAILED, 1).awaitCompletion(Duration.ofSeconds(60)).getFirstRecord().value();
        assertThat(failed.stage()).isEqualTo(Stage.IMAGE_BUILDER);
        assertThat(failed.reason()).isEqualTo("CHECKSUM_MISMATCH");
        assertThat(failed.retryable()).isFalse();
        assertThat(failed.run().runId()).isEqualTo(version.run().runId());
        assertThat(registry.tags("kafka-bad")).isEmpty();
    }

    private void serde() {
        companion.registerSerde(ConveyorEvent.class,
                Serdes.serdeFrom(new ConveyorEventSerializer(), new ConveyorEventDeserializer()));
    }

    private void produce(VersionResolved version) {
        companion.produce(String.class, ConveyorEvent.class)
                .fromRecords(new ProducerRecord<>(Topics.VERSION_RESOLVED, version.run().app(), version))
                .awaitCompletion(Duration.ofSeconds(30));
    }
}
