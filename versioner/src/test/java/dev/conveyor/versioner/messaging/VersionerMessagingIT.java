package dev.conveyor.versioner.messaging;

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
import dev.conveyor.events.v1.Artifact;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.BumpReason;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.EventType;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.StageFailed;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.stage.messaging.StageEdge;
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
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import io.smallrye.reactive.messaging.kafka.companion.KafkaCompanion;

/** The versioner as deployed: BuildSucceeded over a real broker in, VersionResolved out, poison to its DLQ. */
@QuarkusTest
@QuarkusTestResource(KafkaBrokerResource.class)
@QuarkusTestResource(GitServerResource.class)
class VersionerMessagingIT {

    static final String SHA = "ab".repeat(32);

    @InjectKafkaCompanion
    KafkaCompanion companion;

    @InjectGitServers
    GitServers git;

    @Inject
    KafkaClientService clients;

    @Inject
    WarmUpStarter warmUp;

    @Test
    void theWarmUpRunsOnceAfterStartEmitsNothingAndLeavesNoScratchDirectory() throws Exception {
        WarmUpResult result = warmUp.result().toCompletableFuture().get(120, TimeUnit.SECONDS);
        System.out.printf("versioner warm-up: %s in %d ms%n", result.outcome(), result.took().toMillis());

        assertThat(result.failure()).isEmpty();
        assertThat(result.outcome()).isEqualTo(WarmUpResult.Outcome.DONE);
        // Everything on the stage's output topics so far: no record of the warm-up's run.
        List<ConsumerRecord<String, byte[]>> out = companion.consume(String.class, byte[].class)
                .fromTopics(Set.of(Topics.VERSION_RESOLVED, Topics.STAGE_FAILED), Duration.ofSeconds(5))
                .awaitCompletion(Duration.ofSeconds(30)).getRecords();
        assertThat(out).noneMatch(r -> "warm-up".equals(r.key()));
        try (Stream<Path> left = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("conveyor-warm-up-"));
        }
    }

    @Test
    void theSharedKafkaClientDefaultsOfStageSupportReachEveryChannel() {
        Map<String, ?> consumer = clients.getConsumer(Topics.BUILD_SUCCEEDED).configuration();
        Map<String, ?> producer = clients.getProducer(StageEdge.CHANNEL).configuration();
        System.out.printf("effective consumer config of %s: session.timeout.ms=%s heartbeat.interval.ms=%s%n",
                Topics.BUILD_SUCCEEDED, consumer.get("session.timeout.ms"), consumer.get("heartbeat.interval.ms"));

        assertThat(String.valueOf(consumer.get("session.timeout.ms"))).isEqualTo("10000");
        assertThat(String.valueOf(consumer.get("heartbeat.interval.ms"))).isEqualTo("3000");
        assertThat(String.valueOf(consumer.get("reconnect.backoff.max.ms"))).isEqualTo("5000");
        // The channel's own keys still win over the shared defaults.
        assertThat(String.valueOf(consumer.get("group.id"))).isEqualTo("conveyor-versioner");
        assertThat(String.valueOf(producer.get("delivery.timeout.ms"))).isEqualTo("300000");
        assertThat(String.valueOf(producer.get("enable.idempotence"))).isEqualTo("true");
        assertThat(String.valueOf(producer.get("acks"))).isEqualTo("all");
        assertThat(String.valueOf(producer.get("linger.ms"))).as("one event per input: no batching wait")
                .isEqualTo("0");
    }

    @Test
    void aBuildOnTheDefaultBranchIsTaggedAndResolved() {
        companion.registerSerde(ConveyorEvent.class,
                Serdes.serdeFrom(new ConveyorEventSerializer(), new ConveyorEventDeserializer()));
        BareRepo repo = git.repos().createBare("messaging-app");
        repo.writer().file("README.md", "x").message("feat: first").commit();
        repo.writer().file("README.md", "y").message("fix: second").tag("v1.2.0").commit();
        String head = repo.writer().file("README.md", "z").message("feat: cart").commit();
        BuildSucceeded build = new BuildSucceeded(
                PipelineRun.start("messaging-app", git.daemon().url(repo), head, "main", null, Flow.CD), Instant.now(),
                null, "https://jenkins.example.com/job/1/", new Artifact("file:///tmp/app.jar", SHA, null, "jar"), null,
                null);

        companion.produce(String.class, ConveyorEvent.class)
                .fromRecords(new ProducerRecord<>(Topics.BUILD_SUCCEEDED, build.run().app(), build))
                .awaitCompletion(Duration.ofSeconds(30));

        ConsumerRecord<String, ConveyorEvent> out = companion.consume(String.class, ConveyorEvent.class)
                .fromTopics(Topics.VERSION_RESOLVED, 1).awaitCompletion(Duration.ofSeconds(60)).getFirstRecord();
        VersionResolved resolved = (VersionResolved) out.value();
        assertThat(out.key()).isEqualTo("messaging-app");
        assertThat(new String(out.headers().lastHeader("ce_type").value(), StandardCharsets.UTF_8))
                .isEqualTo(EventType.VERSION_RESOLVED.type());
        assertThat(resolved.version()).isEqualTo("1.3.0");
        assertThat(resolved.tag()).isEqualTo("v1.3.0");
        assertThat(resolved.taggedNow()).isTrue();
        assertThat(resolved.bump()).isEqualTo(BumpReason.MINOR);
        assertThat(resolved.previousVersion()).isEqualTo("1.2.0");
        assertThat(resolved.changes()).containsExactly("feat: cart");
        assertThat(resolved.artifact()).isEqualTo(build.artifact());
        // Written by Conveyor's own serializer (absent optionals omitted), not a generic one Quarkus might generate.
        ConsumerRecord<String, byte[]> raw = companion.consume(String.class, byte[].class)
                .fromTopics(Topics.VERSION_RESOLVED, 1).awaitCompletion(Duration.ofSeconds(30)).getFirstRecord();
        assertThat(new String(raw.value(), StandardCharsets.UTF_8)).doesNotContain("null").startsWith("{\"run\":");
        assertThat(repo.tags()).anySatisfy(t -> {
            assertThat(t.name()).isEqualTo("v1.3.0");
            assertThat(t.commitId()).isEqualTo(head);
            assertThat(t.annotated()).isTrue();
            assertThat(t.message()).contains("Conveyor-Run: " + build.run().runId());
        });
    }

    @Test
    void anUnknownCommitIsATerminalStageFailedAndPoisonIsDeadLettered() {
        companion.registerSerde(ConveyorEvent.class,
                Serdes.serdeFrom(new ConveyorEventSerializer(), new ConveyorEventDeserializer()));
        BareRepo repo = git.repos().createBare("messaging-unknown");
        repo.seed(Map.of("a", "b"), "init");
        BuildSucceeded build = new BuildSucceeded(
                PipelineRun.start("messaging-unknown", git.daemon().url(repo),
                        "0123456789012345678901234567890123456789",
                        "main", null, Flow.CD),
                Instant.now(), null, "https://jenkins.example.com/job/2/",
                new Artifact("file:///tmp/app.jar", SHA, null, "jar"), null, null);
        companion.produce(String.class, byte[].class).fromRecords(
                new ProducerRecord<>(Topics.BUILD_SUCCEEDED, null, "messaging-unknown",
                        "{\"not\":\"an event\"}".getBytes(StandardCharsets.UTF_8), new RecordHeaders()))
                .awaitCompletion(Duration.ofSeconds(30));
        companion.produce(String.class, ConveyorEvent.class)
                .fromRecords(new ProducerRecord<>(Topics.BUILD_SUCCEEDED, build.run().app(), build))
                .awaitCompletion(Duration.ofSeconds(30));

        ConsumerRecord<String, byte[]> dead = companion.consume(String.class, byte[].class)
                .fromTopics(Topics.BUILD_SUCCEEDED + ".dlq.versioner", 1).awaitCompletion(Duration.ofSeconds(60))
                .getFirstRecord();
        assertThat(new String(dead.headers().lastHeader("dead-letter-reason").value(), StandardCharsets.UTF_8))
                .contains("missing required fields run");

        StageFailed failed = (StageFailed) companion.consume(String.class, ConveyorEvent.class)
                .fromTopics(Topics.STAGE_FAILED, 1).awaitCompletion(Duration.ofSeconds(60)).getFirstRecord().value();
        assertThat(failed.reason()).isEqualTo("UNKNOWN_COMMIT");
        assertThat(failed.retryable()).isFalse();
        assertThat(failed.run().runId()).isEqualTo(build.run().runId());
    }
}
