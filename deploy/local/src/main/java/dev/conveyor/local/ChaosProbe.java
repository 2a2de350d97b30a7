package dev.conveyor.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevObject;
import org.eclipse.jgit.revwalk.RevWalk;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.conveyor.events.kafka.ConveyorEventDeserializer;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.EventType;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;

/**
 * Reads the facts of the chaos suite where they live: every event topic from the start (a plain consumer, no group),
 * the app and GitOps repositories (JGit on the stack's bare repositories), the image store (the registry's HTTP API,
 * or the OCI image layout without one), and the notification stubs' request journal — kept here across restarts of
 * the stack host, whose stubs forget what they received.
 */
final class ChaosProbe {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final StackLayout layout;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(3)).build();
    /** Every stub request seen so far, by WireMock id. */
    private final Map<String, ChaosStubRequest> stubJournal = new LinkedHashMap<>();

    ChaosProbe(StackLayout layout) {
        this.layout = layout;
    }

    Map<String, String> stack() {
        return layout.readStack().orElseThrow(() -> new IllegalStateException("the stack is not up (no "
                + layout.stackFile() + ")"));
    }

    /** Every record of every event topic, read from the start up to the end offsets of now. */
    List<ChaosEvent> allEvents() {
        return readTopics(stack().get(StackLayout.KAFKA), Duration.ofSeconds(30));
    }

    static List<ChaosEvent> readTopics(String bootstrap, Duration timeout) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        List<ChaosEvent> events = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = partitions(consumer);
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("reading the event topics took longer than " + timeout
                            .toSeconds() + " s");
                }
                consumer.poll(Duration.ofMillis(200)).forEach(r -> toEvent(r).ifPresent(events::add));
            }
        }
        return events;
    }

    static List<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> consumer) {
        List<TopicPartition> partitions = new ArrayList<>();
        for (EventType type : EventType.values()) {
            List<PartitionInfo> infos = consumer.partitionsFor(type.topic());
            if (infos != null) {
                infos.forEach(i -> partitions.add(new TopicPartition(i.topic(), i.partition())));
            }
        }
        return partitions;
    }

    private static final ConveyorEventDeserializer DESERIALIZER = new ConveyorEventDeserializer();

    static Optional<ChaosEvent> toEvent(ConsumerRecord<byte[], byte[]> r) {
        ConveyorEvent event;
        try {
            event = DESERIALIZER.deserialize(r.topic(), r.headers(), r.value());
        } catch (RuntimeException e) {
            return Optional.empty();
        }
        return Optional.of(new ChaosEvent(r.topic(), r.partition(), r.offset(), Instant.ofEpochMilli(r.timestamp()),
                header(r, "ce_id"), header(r, "ce_source"), event));
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /** Every tag of the app repository. */
    List<ChaosRunFacts.GitTag> appTags() {
        return repos().open(SampleApp.APP_REPO).tags().stream().map(t -> new ChaosRunFacts.GitTag(t.name(), t
                .commitId(), t.message() == null ? "" : t.message())).toList();
    }

    List<String> appCommitMessages() {
        return commitMessages(repos().open(SampleApp.APP_REPO));
    }

    List<String> gitopsCommitMessages() {
        return commitMessages(repos().open(SampleApp.GITOPS_REPO));
    }

    private GitRepos repos() {
        return GitRepos.at(layout.gitDir());
    }

    /** The full message of every commit reachable from any branch or tag. */
    static List<String> commitMessages(BareRepo repo) {
        try (Repository db = repo.open(); RevWalk walk = new RevWalk(db)) {
            for (Ref ref : db.getRefDatabase().getRefs()) {
                if (ref.getObjectId() == null) {
                    continue;
                }
                RevObject o = walk.peel(walk.parseAny(ref.getObjectId()));
                if (o instanceof RevCommit c) {
                    walk.markStart(c);
                }
            }
            List<String> messages = new ArrayList<>();
            for (RevCommit c : walk) {
                messages.add(c.getFullMessage());
            }
            return messages;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + repo.name(), e);
        }
    }

    /**
     * The image store's digest of each of these versions of the sample app's image: the registry's manifest digest,
     * or the OCI image layout's index entry. Versions it does not hold are left out.
     */
    Map<String, String> storedDigests(List<String> versions) {
        Map<String, String> digests = new LinkedHashMap<>();
        Map<String, String> stack = stack();
        String registry = stack.get(StackLayout.REGISTRY);
        if (registry != null) {
            for (String v : versions) {
                try {
                    HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("http://" + registry
                            + "/v2/conveyor-demo/" + SampleApp.APP + "/manifests/" + v)).method("HEAD",
                                    HttpRequest.BodyPublishers.noBody())
                            .header("Accept", String.join(", ",
                                    "application/vnd.oci.image.manifest.v1+json",
                                    "application/vnd.docker.distribution.manifest.v2+json",
                                    "application/vnd.oci.image.index.v1+json"))
                            .timeout(Duration.ofSeconds(5))
                            .build(), HttpResponse.BodyHandlers.discarding());
                    if (r.statusCode() == 200) {
                        r.headers().firstValue("Docker-Content-Digest").ifPresent(d -> digests.put(v, d));
                    }
                } catch (IOException e) {
                    // The registry does not answer (the stack host is down): nothing to compare.
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return digests;
                }
            }
            return digests;
        }
        String layoutDir = stack.get(StackLayout.IMAGE_LAYOUT);
        Path index = layoutDir == null ? null : Path.of(layoutDir, "index.json");
        if (index == null || !Files.isRegularFile(index)) {
            return digests;
        }
        try {
            for (JsonNode m : JSON.readTree(index.toFile()).path("manifests")) {
                String ref = m.path("annotations").path("org.opencontainers.image.ref.name").asText("");
                for (String v : versions) {
                    if (ref.equals("conveyor-demo/" + SampleApp.APP + ":" + v) || ref.equals(v)) {
                        digests.put(v, m.path("digest").asText());
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + index, e);
        }
        return digests;
    }

    /**
     * Every request the notification stubs have received, merged into this probe's journal (the stubs of a restarted
     * stack host start with an empty journal). When the stubs do not answer, what was seen before.
     */
    synchronized List<ChaosStubRequest> stubRequests() {
        Optional<String> stubs = layout.readStack().map(s -> s.get(StackLayout.STUBS));
        if (stubs.isPresent()) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(stubs.get()
                        + "/__admin/requests")).timeout(Duration.ofSeconds(10)).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    List<ChaosStubRequest> fresh = new ArrayList<>();
                    for (JsonNode entry : JSON.readTree(r.body()).path("requests")) {
                        JsonNode req = entry.path("request");
                        fresh.add(new ChaosStubRequest(entry.path("id").asText(), req.path("method").asText(), req
                                .path("url").asText(), req.path("body").asText(""),
                                Instant.ofEpochMilli(req.path(
                                        "loggedDate").asLong())));
                    }
                    // The journal lists the newest first.
                    for (int i = fresh.size() - 1; i >= 0; i--) {
                        stubJournal.putIfAbsent(fresh.get(i).id(), fresh.get(i));
                    }
                }
            } catch (IOException e) {
                // The stubs are down (the stack host died): keep what was seen.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return List.copyOf(stubJournal.values());
    }

    /** Whether the notifier is configured to transition JIRA issues. */
    boolean jiraTransitionConfigured() {
        return StackLayout.read(layout.serviceDir("notifier").resolve("config/application.properties")).map(
                c -> c.containsKey("conveyor.notifier.jira.transition-id")).orElse(false);
    }
}
