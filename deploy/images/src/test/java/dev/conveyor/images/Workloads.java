package dev.conveyor.images;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serdes;

import dev.conveyor.events.kafka.ConveyorEventDeserializer;
import dev.conveyor.events.kafka.ConveyorEventSerializer;
import dev.conveyor.events.v1.Artifact;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitServers;
import dev.conveyor.testkit.kafka.KafkaBroker;
import io.smallrye.reactive.messaging.kafka.companion.KafkaCompanion;

/**
 * The real work a service does while its cache is trained, where the bench has one: versioner gets {@value #BUILDS}
 * {@code BuildSucceeded} events for repositories on the testkit's git daemon and must answer each with a
 * {@code VersionResolved} (it fetches, computes the version, tags and pushes the tag).
 */
final class Workloads {

    static final int BUILDS = 6;

    /** A service's training workload: the configuration it needs and what to run once it is ready. */
    record Workload(Map<String, String> config, Runnable run) {
    }

    private Workloads() {
    }

    static Workload none() {
        return new Workload(Map.of(), null);
    }

    static Workload versioner(KafkaBroker broker, GitServers git) {
        String daemon = java.net.URI.create(git.daemon().baseUrl()).getAuthority();
        Map<String, String> config = Map.of("conveyor.outbound.schemes", "git", "conveyor.outbound.hosts", daemon,
                "conveyor.outbound.allowed-networks", "127.0.0.1/32");
        return new Workload(config, () -> {
            List<ProducerRecord<String, ConveyorEvent>> records = new ArrayList<>();
            for (int i = 0; i < BUILDS; i++) {
                String app = "train-" + i + "-" + Long.toHexString(System.nanoTime());
                BareRepo repo = git.repos().createBare(app);
                repo.writer().file("README.md", "1").message("feat: first").commit();
                repo.writer().file("README.md", "2").message("fix: second").tag("v1.2.0").commit();
                String head = repo.writer().file("README.md", "3").message(i % 2 == 0 ? "feat: more" : "fix: less")
                        .commit();
                BuildSucceeded build = new BuildSucceeded(PipelineRun.start(app, git.daemon().url(repo), head, "main",
                        null, Flow.CD), Instant.now(), null, "https://ci.example.com/job/" + i + "/",
                        new Artifact(
                                "file:///tmp/app.jar", "ab".repeat(32), null, "jar"),
                        null, null);
                records.add(new ProducerRecord<>(Topics.BUILD_SUCCEEDED, app, build));
            }
            try (KafkaCompanion companion = broker.companion()) {
                companion.registerSerde(ConveyorEvent.class, Serdes.serdeFrom(new ConveyorEventSerializer(),
                        new ConveyorEventDeserializer()));
                var consumer = companion.consume(String.class, ConveyorEvent.class).fromTopics(
                        Topics.VERSION_RESOLVED, BUILDS);
                companion.produce(String.class, ConveyorEvent.class).fromRecords(records).awaitCompletion(Duration
                        .ofSeconds(30));
                long resolved = consumer.awaitCompletion(Duration.ofSeconds(120)).getRecords().stream().filter(
                        r -> r.value() instanceof VersionResolved).count();
                if (resolved != BUILDS) {
                    throw new IllegalStateException("versioner resolved " + resolved + " of " + BUILDS + " builds");
                }
            }
        });
    }
}
