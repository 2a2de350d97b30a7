package dev.conveyor.local;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.conveyor.events.kafka.ConveyorEventDeserializer;
import dev.conveyor.events.v1.BuildFailed;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.ChartPublished;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.EventType;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.ReleaseDegraded;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.events.v1.StageFailed;
import dev.conveyor.events.v1.VersionResolved;

/**
 * What Jenkins does at the end of a build — the hook to the gateway — and a live view of the run that follows, read
 * straight from the event topics.
 */
public final class Pipeline {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final LocalStack.Running stack;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    public Pipeline(LocalStack.Running stack) {
        this.stack = stack;
    }

    /** The gateway's answer to a hook. */
    public record Accepted(String runId, int attempt, boolean duplicate, Instant sentAt) {
    }

    /**
     * Sends the Jenkins hook of a successful build of {@code commit}.
     *
     * @param pullRequest the pull request number for the CI flow, or null for the CD flow
     */
    public Accepted hook(String repoUrl, String commit, String branch, Integer pullRequest, String title,
            SampleApp.Artifact artifact, int buildNumber) {
        return hook(SampleApp.APP, new Build(repoUrl, commit, branch, artifact, buildNumber), pullRequest, title);
    }

    /** What a Jenkins build of one commit produced: where the commit is, its archived artifact and its number. */
    public record Build(String repoUrl, String commit, String branch, SampleApp.Artifact artifact, int number) {
    }

    /**
     * Sends the Jenkins hook of a successful build of {@code app}.
     *
     * @param pullRequest the pull request number for the CI flow, or null for the CD flow
     */
    public Accepted hook(String app, Build build, Integer pullRequest, String title) {
        String repoUrl = build.repoUrl();
        String commit = build.commit();
        String branch = build.branch();
        SampleApp.Artifact artifact = build.artifact();
        int buildNumber = build.number();
        ObjectNode body = JSON.createObjectNode();
        body.put("result", "SUCCESS");
        body.put("repoUrl", repoUrl);
        body.put("commit", commit);
        body.put("branch", branch);
        if (pullRequest != null) {
            body.put("pullRequest", pullRequest);
            body.put("pullRequestTitle", title);
        }
        body.put("app", app);
        body.put("buildUrl", "http://jenkins.local/job/" + app + "/" + buildNumber + "/");
        ObjectNode a = body.putObject("artifact");
        a.put("url", artifact.url().toString());
        a.put("sha256", artifact.sha256());
        a.put("sizeBytes", artifact.sizeBytes());
        a.put("kind", "jar");
        ObjectNode tests = body.putObject("tests");
        tests.put("passed", 12);
        tests.put("failed", 0);
        tests.put("skipped", 0);
        Instant sent = Instant.now();
        JsonNode answer = post("/hooks/jenkins", body.toString(), stack.secrets().get("hook-token"), 202, 200);
        return new Accepted(answer.path("runId").asText(), answer.path("attempt").asInt(), answer.path("duplicate")
                .asBoolean(), sent);
    }

    /** Asks the gateway to replay a run from a stage; returns the new attempt. */
    public int replay(String runId, String fromStage) {
        JsonNode answer = post("/runs/" + runId + "/replay?from=" + fromStage, "", stack.secrets().get("api-token"),
                202);
        return answer.path("attempt").asInt();
    }

    /** The gateway's view of a run ({@code GET /runs/{id}}). */
    public JsonNode run(String runId) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(stack.gatewayUrl() + "/runs/"
                    + runId)).timeout(Duration.ofSeconds(10))
                    .header("Authorization", "Bearer " + stack.secrets().get("viewer-token")).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("GET /runs/" + runId + " answered " + r.statusCode());
            }
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new IllegalStateException("the gateway did not answer: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private JsonNode post(String path, String body, String token, int... expected) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(stack.gatewayUrl() + path))
                    .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                    .header("Authorization", "Bearer " + token)
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            if (Arrays.stream(expected).noneMatch(c -> c == r.statusCode())) {
                throw new IllegalStateException("POST " + path + " answered " + r.statusCode() + ": " + r.body());
            }
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new IllegalStateException("the gateway did not answer POST " + path + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Every event of one attempt of a run, as read, and how it ended. */
    public record RunEvents(String runId, int attempt, List<ConveyorEvent> events, boolean succeeded,
            Duration hookToSynced) {

        public <T extends ConveyorEvent> List<T> all(Class<T> type) {
            return events.stream().filter(type::isInstance).map(type::cast).toList();
        }

        public <T extends ConveyorEvent> T one(Class<T> type) {
            List<T> found = all(type);
            if (found.isEmpty()) {
                throw new IllegalStateException("run " + runId + " has no " + type.getSimpleName());
            }
            return found.get(found.size() - 1);
        }
    }

    /**
     * Follows a run's attempt on the topics until it ends — CD: {@code ReleaseHealthy} or {@code ReleaseDegraded};
     * CI: {@code ManifestsValidated}; either: {@code StageFailed} or {@code BuildFailed} — printing each event as it
     * arrives.
     */
    public RunEvents follow(String runId, int attempt, Flow flow, Instant hookSentAt, Duration timeout,
            PrintStream out) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.stack().get(StackLayout.KAFKA));
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<ConveyorEvent> events = new ArrayList<>();
        // Event ids are deterministic: a record with an id already seen is a redelivered effect, shown once.
        java.util.Set<String> seenIds = new java.util.HashSet<>();
        Instant synced = null;
        ConveyorEventDeserializer deserializer = new ConveyorEventDeserializer();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            startAt(consumer, hookSentAt.minus(CLOCK_MARGIN));
            while (System.nanoTime() < deadline) {
                // Topics are read independently: within one poll, show events in the order they happened.
                List<ConsumerRecord<byte[], byte[]>> batch = new ArrayList<>();
                consumer.poll(Duration.ofMillis(200)).forEach(batch::add);
                batch.sort(Comparator.comparingLong(ConsumerRecord::timestamp));
                for (ConsumerRecord<byte[], byte[]> rec : batch) {
                    ConveyorEvent event;
                    try {
                        event = deserializer.deserialize(rec.topic(), rec.headers(), rec.value());
                    } catch (RuntimeException e) {
                        continue;
                    }
                    boolean mine = event.run().runId().equals(runId) && event.run().attempt() == attempt
                            || event instanceof RepoSynced s && s.runIds().contains(runId)
                                    && event.run().attempt() == attempt;
                    var ceId = rec.headers().lastHeader("ce_id");
                    if (!mine || ceId != null && !seenIds.add(new String(ceId.value(),
                            java.nio.charset.StandardCharsets.UTF_8))) {
                        continue;
                    }
                    events.add(event);
                    if (event instanceof RepoSynced && synced == null) {
                        synced = Instant.now();
                    }
                    if (out != null) {
                        var source = rec.headers().lastHeader("ce_source");
                        boolean replayed = source != null && new String(source.value(),
                                java.nio.charset.StandardCharsets.UTF_8).endsWith("/gateway")
                                && !(event instanceof BuildSucceeded);
                        out.println(line(event, hookSentAt) + (replayed ? "  (re-published by the gateway)" : ""));
                    }
                    Boolean end = ends(event, flow, events);
                    if (end != null) {
                        Duration toSynced = synced == null ? null : Duration.between(hookSentAt, synced);
                        return new RunEvents(runId, attempt, List.copyOf(events), end, toSynced);
                    }
                }
            }
        }
        throw new IllegalStateException("run " + runId + " (attempt " + attempt + ") did not finish within "
                + timeout.toSeconds() + " s; events so far: " + events.stream().map(e -> e.getClass()
                        .getSimpleName()).toList());
    }

    /** Records written this long before the hook are read too, in case the clocks of the processes differ. */
    private static final Duration CLOCK_MARGIN = Duration.ofSeconds(10);

    /**
     * Reads every event topic from the first record written at or after {@code since}, not from the beginning: a
     * long-lived stack's history is never read again. The topics exist once the stack is up (the gateway and the
     * notifier consume all of them).
     */
    static void startAt(KafkaConsumer<byte[], byte[]> consumer, Instant since) {
        List<TopicPartition> partitions = new ArrayList<>();
        for (EventType type : EventType.values()) {
            List<PartitionInfo> infos = consumer.partitionsFor(type.topic());
            if (infos == null || infos.isEmpty()) {
                throw new IllegalStateException("topic " + type.topic() + " does not exist: is the stack up?");
            }
            infos.forEach(i -> partitions.add(new TopicPartition(i.topic(), i.partition())));
        }
        consumer.assign(partitions);
        Map<TopicPartition, Long> times = new HashMap<>();
        partitions.forEach(p -> times.put(p, since.toEpochMilli()));
        Map<TopicPartition, OffsetAndTimestamp> offsets = consumer.offsetsForTimes(times);
        Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
        for (TopicPartition p : partitions) {
            OffsetAndTimestamp at = offsets.get(p);
            consumer.seek(p, at == null ? ends.get(p) : at.offset());
        }
    }

    /** TRUE: ended well, FALSE: ended badly, null: not the end. */
    private static Boolean ends(ConveyorEvent event, Flow flow, List<ConveyorEvent> events) {
        if (event instanceof StageFailed || event instanceof BuildFailed) {
            return Boolean.FALSE;
        }
        if (flow == Flow.CI) {
            return event instanceof ManifestsValidated ? Boolean.TRUE : null;
        }
        // CD: RepoSynced and the release's health come on different topics, in either order; both are the end.
        boolean synced = events.stream().anyMatch(RepoSynced.class::isInstance);
        boolean healthy = events.stream().anyMatch(ReleaseHealthy.class::isInstance);
        boolean degraded = events.stream().anyMatch(ReleaseDegraded.class::isInstance);
        if (synced && (healthy || degraded)) {
            return healthy && !degraded;
        }
        return null;
    }

    static String line(ConveyorEvent event, Instant since) {
        double t = Duration.between(since, event.occurredAt()).toMillis() / 1000.0;
        String stage;
        String what;
        String mark = "✔";
        if (event instanceof BuildSucceeded b) {
            stage = "build";
            what = "BuildSucceeded  " + b.buildUrl();
        } else if (event instanceof VersionResolved v) {
            stage = "versioner";
            what = "VersionResolved " + v.version() + (v.tag() == null ? "" : "  tag " + v.tag()) + "  (" + v.bump()
                    + ")";
        } else if (event instanceof ImagePushed i) {
            stage = "image-builder";
            what = "ImagePushed     " + i.repository() + "@" + i.digest();
        } else if (event instanceof ManifestsValidated m) {
            stage = "manifest-renderer";
            what = "ManifestsValidated  " + m.objectCount() + " objects" + (m.manifestsCommit() == null
                    ? ", diff " + (m.diff() == null ? 0 : m.diff().lines().count()) + " lines"
                    : ", commit " + abbrev(m.manifestsCommit()));
        } else if (event instanceof ChartPublished c) {
            stage = "promoter";
            what = "ChartPublished  " + c.chartName() + " " + c.chartVersion() + " -> " + String.join(", ",
                    c.repositories());
        } else if (event instanceof ReleasePromoted p) {
            stage = "promoter";
            what = "ReleasePromoted " + p.environment() + "/" + p.namespace() + "/" + p.release() + "  GitOps commit "
                    + abbrev(p.gitopsCommit());
        } else if (event instanceof RepoSynced s) {
            stage = "flux-sync";
            what = "RepoSynced      revision " + abbrev(s.revision()) + "  created " + s.objects().created()
                    + ", updated " + s.objects().updated() + ", unchanged " + s.objects().unchanged() + ", pruned "
                    + s.objects().pruned();
        } else if (event instanceof ReleaseHealthy h) {
            stage = "flux-sync";
            what = "ReleaseHealthy  " + h.namespace() + "/" + h.release() + "  " + h.workloads();
        } else if (event instanceof ReleaseDegraded d) {
            stage = "flux-sync";
            mark = "✘";
            what = "ReleaseDegraded " + d.reason() + ": " + d.message();
        } else if (event instanceof StageFailed f) {
            stage = f.stage().id();
            mark = "✘";
            what = "StageFailed     " + f.reason() + ": " + f.message();
        } else if (event instanceof BuildFailed b) {
            stage = "build";
            mark = "✘";
            what = "BuildFailed";
        } else {
            stage = "?";
            what = event.getClass().getSimpleName();
        }
        return String.format("  %s %6.1fs  %-18s %s", mark, t, stage, what);
    }

    static String abbrev(String sha) {
        return sha == null ? "-" : sha.length() > 12 ? sha.substring(0, 12) : sha;
    }
}
