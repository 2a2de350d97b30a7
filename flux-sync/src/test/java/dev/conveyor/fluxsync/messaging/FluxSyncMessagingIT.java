package dev.conveyor.fluxsync.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import jakarta.inject.Inject;

import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serdes;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.conveyor.events.kafka.ConveyorEventDeserializer;
import dev.conveyor.events.kafka.ConveyorEventSerializer;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.EventType;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.PromotionMode;
import dev.conveyor.events.v1.ReleaseDegraded;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.fluxsync.rest.WebhookSignature;
import dev.conveyor.stage.warmup.WarmUpResult;
import dev.conveyor.stage.warmup.WarmUpStarter;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitServerResource;
import dev.conveyor.testkit.git.GitServers;
import dev.conveyor.testkit.git.InjectGitServers;
import dev.conveyor.testkit.kafka.KafkaBrokerResource;
import dev.conveyor.testkit.kube.InjectKubernetesApi;
import dev.conveyor.testkit.kube.KubernetesApiResource;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentConditionBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kafka.InjectKafkaCompanion;
import io.smallrye.reactive.messaging.kafka.companion.KafkaCompanion;

/**
 * flux-sync as deployed: ReleasePromoted over a real broker in, the GitOps repository synced into the API stand-in,
 * RepoSynced and ReleaseHealthy/ReleaseDegraded out; poison to its DLQ; the webhook and the identity over HTTP. The
 * stand-in has no controllers, so the test plays the Deployment controller by writing the rollout status.
 */
@QuarkusTest
@TestProfile(FluxSyncTestProfile.class)
@QuarkusTestResource(KafkaBrokerResource.class)
@QuarkusTestResource(GitServerResource.class)
@QuarkusTestResource(KubernetesApiResource.class)
class FluxSyncMessagingIT {

    static final String UNKNOWN_RUN = "r-00000000000000000000beef";

    @InjectKafkaCompanion
    KafkaCompanion companion;

    @InjectGitServers
    GitServers git;

    @InjectKubernetesApi
    KubernetesApiStandIn kube;

    @TestHTTPResource("/")
    URL http;

    @Inject
    WarmUpStarter warmUp;

    @BeforeEach
    void serde() {
        companion.registerSerde(ConveyorEvent.class,
                Serdes.serdeFrom(new ConveyorEventSerializer(), new ConveyorEventDeserializer()));
    }

    synchronized BareRepo repo() {
        try {
            return git.repos().open(FluxSyncTestProfile.REPO);
        } catch (IllegalArgumentException e) {
            BareRepo created = git.repos().createBare(FluxSyncTestProfile.REPO);
            created.writer().file("README.md", "GitOps repository of the messaging test").message("init").commit();
            return created;
        }
    }

    /** Every record the topics hold now (those that exist yet), read to their current end: no time window. */
    List<ConsumerRecord<String, ConveyorEvent>> recordsNow(Set<String> topics) {
        Set<String> existing = new HashSet<>(topics);
        existing.retainAll(companion.topics().list());
        Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
        companion.topics().describe(existing.toArray(String[]::new)).values().forEach(d -> d.partitions().forEach(
                p -> ends.put(new TopicPartition(d.name(), p.partition()), OffsetSpec.latest())));
        // the test broker deletes nothing and the producers write no transaction markers: the end offset is the count
        long held = companion.offsets().list(ends).values().stream().mapToLong(o -> o.offset()).sum();
        if (held == 0) {
            return List.of();
        }
        return companion.consume(String.class, ConveyorEvent.class).fromTopics(existing, held).awaitCompletion(
                Duration.ofSeconds(30)).getRecords();
    }

    static ReleasePromoted promoted(BareRepo repo, String app, String commit, String namespace, String release) {
        PipelineRun run = PipelineRun.start(app, "https://git.example.com/acme/" + app + ".git", "ab".repeat(20),
                "main", null, Flow.CD);
        return new ReleasePromoted(run, Instant.now(), null, "chart1", "0.1.0", repo.fileUrl(), "prod", namespace,
                release, commit, PromotionMode.AUTO, null);
    }

    @Test
    void theWarmUpRunsOnceAfterStartAndLeavesTheClusterTheTopicsAndTheTempDirectoryAsTheyWere() throws Exception {
        WarmUpResult result = warmUp.result().toCompletableFuture().get(120, TimeUnit.SECONDS);
        System.out.printf("flux-sync warm-up: %s in %d ms%n", result.outcome(), result.took().toMillis());

        assertThat(result.failure()).isEmpty();
        assertThat(result.outcome()).isEqualTo(WarmUpResult.Outcome.DONE);
        // Its repository asks for the namespace warm-up, a ConfigMap and a release: none of it reached the cluster.
        assertThat(kube.client().namespaces().withName("warm-up").get()).isNull();
        assertThat(kube.client().apps().deployments().inAnyNamespace().list().getItems()).noneMatch(d -> "warm-up"
                .equals(d.getMetadata().getNamespace()));
        assertThat(recordsNow(Set.of(Topics.REPO_SYNCED, Topics.RELEASE_HEALTHY, Topics.RELEASE_DEGRADED)))
                .noneMatch(r -> r.value().toString().contains("warm-up"));
        try (Stream<Path> left = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("conveyor-warm-up-"));
        }
    }

    @Test
    void aPromotionIsSyncedAtOnceAndReportedHealthyOnceRolledOut() {
        BareRepo repo = repo();
        String shopRelease = """
                apiVersion: helm.integrations.flux.weave.works/v1alpha2
                kind: FluxHelmRelease
                metadata:
                  name: web
                  labels:
                    chart: chart1
                spec:
                  chartGitPath: chart1
                  releaseName: web
                  values:
                    image: shop/web:1.4.0
                """;
        dev.conveyor.fluxsync.service.SeedRepoAccess.chart(repo.writer())
                .message("unrelated change\n\nConveyor-Run: " + UNKNOWN_RUN + "\n").commit();
        PipelineRun run = PipelineRun.start("shop", "https://git.example.com/acme/shop.git", "ab".repeat(20),
                "main", null, Flow.CD);
        String head = repo.writer().file("releases/helm/shop/web.yaml", shopRelease)
                .message("shop 1.4.0 to prod\n\nConveyor-Run: " + run.runId() + "\n").commit();
        ReleasePromoted promoted = promoted(repo, "shop", head, "shop", "web");

        companion.produce(String.class, ConveyorEvent.class)
                .fromRecords(new ProducerRecord<>(Topics.RELEASE_PROMOTED, "shop", promoted))
                .awaitCompletion(Duration.ofSeconds(30));
        rollOut("shop", "web", false);

        ConsumerRecord<String, ConveyorEvent> synced = awaitEvent(Topics.REPO_SYNCED, run.runId());
        RepoSynced repoSynced = (RepoSynced) synced.value();
        assertThat(synced.key()).isEqualTo("shop");
        assertThat(new String(synced.headers().lastHeader("ce_type").value(), StandardCharsets.UTF_8))
                .isEqualTo(EventType.REPO_SYNCED.type());
        assertThat(repoSynced.run().runId()).isEqualTo(run.runId());
        assertThat(repoSynced.revision()).isEqualTo(head);
        // the unknown run gets no event of its own but is listed
        assertThat(repoSynced.runIds()).containsExactly(UNKNOWN_RUN, run.runId());
        assertThat(repoSynced.objects().created()).isEqualTo(3);
        // the broker acknowledged it: the revision is recorded as reported, for the next process too
        await().atMost(Duration.ofSeconds(30)).until(() -> Optional.ofNullable(kube.client().configMaps().inNamespace(
                "conveyor").withName("flux-sync-reported-gitops").get()).map(cm -> cm.getData().get("revision"))
                .filter(head::equals).isPresent());

        ReleaseHealthy healthy = (ReleaseHealthy) awaitEvent(Topics.RELEASE_HEALTHY, run.runId()).value();
        assertThat(healthy.run().runId()).isEqualTo(run.runId());
        assertThat(healthy.release()).isEqualTo("web");
        assertThat(healthy.workloads()).containsExactly("Deployment/shop/web");
        assertThat(kube.client().apps().deployments().inNamespace("shop").withName("web").get().getSpec()
                .getTemplate().getSpec().getContainers().get(0).getImage()).isEqualTo("shop/web:1.4.0");

        // the next promotion's rollout fails: ReleaseDegraded with the controller's reason
        PipelineRun second = PipelineRun.start("shop", "https://git.example.com/acme/shop.git", "cd".repeat(20),
                "main", null, Flow.CD);
        String next = repo.writer().file("releases/helm/shop/web.yaml", shopRelease.replace("1.4.0", "1.5.0"))
                .message("shop 1.5.0 to prod\n\nConveyor-Run: " + second.runId() + "\n").commit();
        ReleasePromoted again = new ReleasePromoted(second, Instant.now(), null, "chart1", "0.1.0", repo.fileUrl(),
                "prod", "shop", "web", next, PromotionMode.AUTO, null);
        companion.produce(String.class, ConveyorEvent.class)
                .fromRecords(new ProducerRecord<>(Topics.RELEASE_PROMOTED, "shop", again))
                .awaitCompletion(Duration.ofSeconds(30));
        await().atMost(Duration.ofSeconds(30)).until(() -> "shop/web:1.5.0".equals(kube.client().apps().deployments()
                .inNamespace("shop").withName("web").get().getSpec().getTemplate().getSpec().getContainers().get(0)
                .getImage()));
        rollOut("shop", "web", true);
        ReleaseDegraded degraded = (ReleaseDegraded) awaitEvent(Topics.RELEASE_DEGRADED, second.runId()).value();
        assertThat(degraded.run().runId()).isEqualTo(second.runId());
        assertThat(degraded.reason()).isEqualTo("RolloutFailed");
        assertThat(degraded.message()).contains("progress deadline exceeded");
    }

    /** The first event of {@code runId} on {@code topic} (other tests' events are skipped). */
    ConsumerRecord<String, ConveyorEvent> awaitEvent(String topic, String runId) {
        var task = companion.consume(String.class, ConveyorEvent.class).fromTopics(topic);
        try {
            return await().atMost(Duration.ofSeconds(60)).until(() -> task.getRecords().stream().filter(r -> r
                    .value() != null && r.value().run().runId().equals(runId)).findFirst(), Optional::isPresent)
                    .orElseThrow();
        } finally {
            task.stop();
        }
    }

    @Test
    void aLongRolloutDoesNotHoldBackTheNextPromotion() {
        BareRepo slowRepo = repo();
        BareRepo fastRepo;
        synchronized (this) {
            fastRepo = git.repos().createBare(FluxSyncTestProfile.REPO_B);
        }
        String release = """
                apiVersion: helm.integrations.flux.weave.works/v1alpha2
                kind: FluxHelmRelease
                metadata:
                  name: %1$s
                  labels:
                    chart: chart1
                spec:
                  chartGitPath: chart1
                  releaseName: %1$s
                  values:
                    image: shop/%1$s:1.0
                """;
        PipelineRun slowRun = PipelineRun.start("slow", "https://git.example.com/acme/slow.git", "ef".repeat(20),
                "main", null, Flow.CD);
        PipelineRun fastRun = PipelineRun.start("fast", "https://git.example.com/acme/fast.git", "fe".repeat(20),
                "main", null, Flow.CD);
        String slowHead = dev.conveyor.fluxsync.service.SeedRepoAccess.chart(slowRepo.writer()).file(
                "releases/helm/slow/stuck.yaml", release.formatted("stuck")).message(
                        "stuck\n\nConveyor-Run: "
                                + slowRun.runId() + "\n")
                .commit();
        String fastHead = dev.conveyor.fluxsync.service.SeedRepoAccess.chart(fastRepo.writer()).file(
                "releases/helm/fast/quick.yaml", release.formatted("quick")).message(
                        "quick\n\nConveyor-Run: "
                                + fastRun.runId() + "\n")
                .commit();
        ReleasePromoted slow = new ReleasePromoted(slowRun, Instant.now(), null, "chart1", "0.1.0", slowRepo
                .fileUrl(), "prod", "slow", "stuck", slowHead, PromotionMode.AUTO, null);
        ReleasePromoted fast = new ReleasePromoted(fastRun, Instant.now(), null, "chart1", "0.1.0", fastRepo
                .fileUrl(), "prod", "fast", "quick", fastHead, PromotionMode.AUTO, null);

        // same key, same partition: the slow promotion is consumed first
        companion.produce(String.class, ConveyorEvent.class)
                .fromRecords(new ProducerRecord<>(Topics.RELEASE_PROMOTED, "same", slow),
                        new ProducerRecord<>(Topics.RELEASE_PROMOTED, "same", fast))
                .awaitCompletion(Duration.ofSeconds(30));

        ConsumerRecord<String, ConveyorEvent> slowSynced = awaitEvent(Topics.REPO_SYNCED, slowRun.runId());
        ConsumerRecord<String, ConveyorEvent> fastSynced = awaitEvent(Topics.REPO_SYNCED, fastRun.runId());
        rollOut("fast", "quick", false);
        assertThat(awaitEvent(Topics.RELEASE_HEALTHY, fastRun.runId()).value().run().runId()).isEqualTo(fastRun
                .runId());

        ConsumerRecord<String, ConveyorEvent> slowDegraded = awaitEvent(Topics.RELEASE_DEGRADED, slowRun.runId());
        assertThat(((ReleaseDegraded) slowDegraded.value()).reason()).isEqualTo("RolloutTimeout");
        // the fast repository was synced while the slow rollout was still being waited for
        assertThat(slowSynced.timestamp()).isLessThanOrEqualTo(fastSynced.timestamp());
        assertThat(fastSynced.timestamp()).isLessThan(slowDegraded.timestamp());
        // the release's conditions are written when the wait ends
        await().atMost(Duration.ofSeconds(10)).until(() -> String.valueOf(kube.client().genericKubernetesResources(
                dev.conveyor.testkit.kube.ReleaseCrds.FLUX_HELM_RELEASE).inNamespace("slow").withName("stuck").get()
                .getAdditionalProperties().get("status")).contains("reason=RolloutTimeout"));
    }

    @Test
    void poisonIsDeadLettered() {
        companion.produce(String.class, byte[].class).fromRecords(
                new ProducerRecord<>(Topics.RELEASE_PROMOTED, null, "poison",
                        "{\"not\":\"an event\"}".getBytes(StandardCharsets.UTF_8), new RecordHeaders()))
                .awaitCompletion(Duration.ofSeconds(30));
        ConsumerRecord<String, byte[]> dead = companion.consume(String.class, byte[].class)
                .fromTopics(Topics.RELEASE_PROMOTED + ".dlq.flux-sync", 1).awaitCompletion(Duration.ofSeconds(60))
                .getFirstRecord();
        assertThat(new String(dead.headers().lastHeader("dead-letter-reason").value(), StandardCharsets.UTF_8))
                .contains("missing required fields");
    }

    @Test
    void theWebhookRefusesABadSignatureAndAcceptsAGoodOne() throws Exception {
        // a change only a sync can bring: a ConfigMap no other test writes, with a name of its own per run
        String name = "hooked-" + Long.toHexString(System.nanoTime());
        repo().writer().file("releases/manifests/hooks/" + name + ".yaml", """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: %s
                  namespace: hooks
                data:
                  pushed: "yes"
                """.formatted(name)).message("a push the webhook announces").commit();
        byte[] body = "{\"ref\":\"refs/heads/main\"}".getBytes(StandardCharsets.UTF_8);
        HttpClient client = HttpClient.newHttpClient();
        URI hook = http.toURI().resolve("hooks/git/gitops");
        HttpResponse<String> bad = client.send(HttpRequest.newBuilder(hook)
                .header("X-Hub-Signature-256", WebhookSignature.sign("wrong-secret", body))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(bad.statusCode()).isEqualTo(401);
        HttpResponse<String> missing = client.send(HttpRequest.newBuilder(hook)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(missing.statusCode()).isEqualTo(401);
        assertThat(kube.client().configMaps().inNamespace("hooks").withName(name).get())
                .as("refused hooks sync nothing").isNull();
        HttpResponse<String> good = client.send(HttpRequest.newBuilder(hook)
                .header("X-Hub-Signature-256", WebhookSignature.sign(FluxSyncTestProfile.WEBHOOK_SECRET, body))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(good.statusCode()).isEqualTo(202);
        // the queued sync applies the pushed change (interval syncs are off in this profile: only the hook syncs)
        await().atMost(Duration.ofSeconds(30)).until(() -> kube.client().configMaps().inNamespace("hooks")
                .withName(name).get() != null);
        // the repository's status names what its revision holds but does not apply (the README outside the seed's
        // directories), with the reason
        HttpResponse<String> repos = client.send(HttpRequest.newBuilder(http.toURI().resolve("repos")).GET()
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(repos.statusCode()).isEqualTo(200);
        assertThat(repos.body()).contains("\"name\":\"gitops\"").contains("\"skipped\":[").contains(
                "\"path\":\"README.md\"").contains("outside the seed layout's directories");
    }

    @Test
    void theWebhookOfAnUnknownRepositoryLooksLikeABadSignature() throws Exception {
        byte[] body = "{\"ref\":\"refs/heads/main\"}".getBytes(StandardCharsets.UTF_8);
        HttpClient client = HttpClient.newHttpClient();
        HttpResponse<String> badSignature = client.send(HttpRequest.newBuilder(http.toURI().resolve(
                "hooks/git/gitops")).header("X-Hub-Signature-256", WebhookSignature.sign("guess", body))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        // a repository that does not exist, signed with any secret, and the configured repository without a secret
        for (String repo : List.of("no-such-repo", "gitops-b")) {
            for (String secret : List.of("guess", FluxSyncTestProfile.WEBHOOK_SECRET)) {
                HttpResponse<String> unknown = client.send(HttpRequest.newBuilder(http.toURI().resolve("hooks/git/"
                        + repo)).header("X-Hub-Signature-256", WebhookSignature.sign(secret, body))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(unknown.statusCode()).as(repo).isEqualTo(badSignature.statusCode()).isEqualTo(401);
                assertThat(unknown.body()).as(repo).isEqualTo(badSignature.body());
                assertThat(unknown.headers().firstValue("content-type")).as(repo).isEqualTo(badSignature.headers()
                        .firstValue("content-type"));
            }
        }
    }

    @Test
    void theIdentityIsKeptInASecretAndServed() throws Exception {
        HttpResponse<String> pub = HttpClient.newHttpClient().send(HttpRequest.newBuilder(http.toURI().resolve(
                "identity.pub")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(pub.statusCode()).isEqualTo(200);
        assertThat(pub.body()).startsWith("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5");
        var secret = kube.client().secrets().inNamespace("conveyor").withName("flux-sync-identity").get();
        assertThat(new String(java.util.Base64.getDecoder().decode(secret.getData().get("identity.pub")),
                StandardCharsets.UTF_8).trim()).isEqualTo(pub.body().trim());
        assertThat(secret.getData()).containsKey("identity");
    }

    void rollOut(String namespace, String name, boolean fail) {
        await().atMost(Duration.ofSeconds(30)).until(() -> kube.client().apps().deployments().inNamespace(namespace)
                .withName(name).get() != null);
        Deployment d = kube.client().apps().deployments().inNamespace(namespace).withName(name).get();
        int replicas = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
        var status = new DeploymentStatusBuilder().withReplicas(replicas);
        if (fail) {
            status.withUpdatedReplicas(0).withConditions(List.of(new DeploymentConditionBuilder().withType(
                    "Progressing").withStatus("False").withReason("ProgressDeadlineExceeded").withMessage(
                            "ReplicaSet web-2 has timed out progressing")
                    .build()));
        } else {
            status.withUpdatedReplicas(replicas).withReadyReplicas(replicas).withAvailableReplicas(replicas);
        }
        d.setStatus(status.build());
        kube.client().apps().deployments().inNamespace(namespace).resource(d).updateStatus();
    }
}
