package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.PromotionMode;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.client.Handoffs;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.service.ReplicaHarness.Events;
import dev.conveyor.fluxsync.service.ReplicaHarness.Replica;
import dev.conveyor.fluxsync.service.ReplicaHarness.Span;
import dev.conveyor.fluxsync.service.ReplicaHarness.Timeline;
import dev.conveyor.fluxsync.service.ReplicaHarness.Timings;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.kafka.KafkaBroker;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Two flux-sync replicas in one JVM (each with its own client, mirrors, reconciler, Leases and handoff loop — see
 * {@link ReplicaHarness}) against one API stand-in, real git repositories and the real Kafka broker their events go
 * to: a repository is never reconciled by both at once, a killed owner's repositories move within 15 s, a promotion or
 * webhook delivered to a non-owner is synced by the owner, and a rollout wait survives its owner's death with its
 * health event sent once. Run with {@code -Dflux-sync.replicas-it.ownership=off} to see each fail without sharding.
 */
class ReplicasIT {

    /** Short, but long enough for a machine whose load is many times its cores (renewals can take a second). */
    static final Timings FAST = new Timings(Duration.ofSeconds(5), Duration.ofMillis(500), Duration.ofMillis(200),
            Duration.ofSeconds(1));

    static KubernetesApiStandIn kube;
    static KubernetesClient client;
    static GitRepos repos;
    static GitAccess access;
    static KafkaBroker kafka;
    static Events events;
    static Path work;

    @BeforeAll
    static void start() throws Exception {
        kube = KubernetesApiStandIn.start();
        client = kube.client();
        repos = new GitRepos();
        access = GitAccess.create(GitCredentials.none());
        kafka = KafkaBroker.start();
        kafka.createTopics(3, Topics.REPO_SYNCED, Topics.RELEASE_HEALTHY, Topics.RELEASE_DEGRADED,
                Topics.STAGE_FAILED);
        events = new Events(kafka.bootstrapServers());
        work = Files.createTempDirectory("flux-sync-replicas-it");
        // The first Helm render of a JVM loads Helm's library (seconds on a busy machine): not part of a takeover.
        new RepoReconciler(new RepoMirrors(work.resolve("mirrors-warm"), access), new KubeCluster(kube.newClient(),
                "conveyor-flux-sync"), new ChartRenderer(work.resolve("work-warm")),
                new RepoReconciler.Settings(
                        "charts", ReplicaHarness.NAMESPACE, Duration.ofMillis(1), Duration.ofMillis(50), work.resolve(
                                "work-warm")),
                new SimpleMeterRegistry(), Clock.systemUTC()).sync(seed(repos.createBare("warm"), "warm"), Set.of());
    }

    @AfterAll
    static void stop() {
        events.close();
        kafka.close();
        access.close();
        repos.close();
        kube.close();
    }

    @Test
    void twoReplicasNeverReconcileTheSameRepositoryAtOnce() throws Exception {
        List<String> names = List.of("ov-a", "ov-b", "ov-c", "ov-d");
        Map<String, BareRepo> bare = new LinkedHashMap<>();
        List<RepoSpec> specs = new ArrayList<>();
        for (String n : names) {
            bare.put(n, repos.createBare(n));
            specs.add(seed(bare.get(n), n));
        }
        Timeline timeline = new Timeline();
        ExecutorService triggers = Executors.newFixedThreadPool(4);
        List<String> runs = new ArrayList<>();
        try (Replica r1 = new Replica("ov-1", kube, access, work, specs, timeline, events, FAST)) {
            await().atMost(Duration.ofSeconds(20)).until(() -> names.stream().allMatch(r1::owns));
            try (Replica r2 = new Replica("ov-2", kube, access, work, specs, timeline, events, FAST)) {
                // r2 joins while triggers arrive: repositories move from r1 to r2 (hand-back) under load
                for (int round = 0; round < 6; round++) {
                    List<Future<?>> fired = new ArrayList<>();
                    for (String n : names) {
                        PipelineRun run = run(n + "-" + round);
                        String head = commit(bare.get(n), n, "v" + round, run);
                        runs.add(run.runId());
                        ReleasePromoted promoted = promoted(run, bare.get(n), head, n, "web");
                        Replica receiver = (round + n.hashCode()) % 2 == 0 ? r1 : r2;
                        Replica other = receiver == r1 ? r2 : r1;
                        fired.add(triggers.submit(() -> receiver.deliver(promoted)));
                        fired.add(triggers.submit(() -> other.webhook(n)));
                        fired.add(triggers.submit(() -> r1.poll(n)));
                        fired.add(triggers.submit(() -> r2.poll(n)));
                    }
                    for (Future<?> f : fired) {
                        f.get(60, TimeUnit.SECONDS);
                    }
                }
                // nothing lost: every run's RepoSynced reached the broker, from whichever replica owned its repository
                await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(events.read(Topics.REPO_SYNCED)
                        .stream().map(s -> s.event().run().runId()).toList()).containsAll(runs));
                assertThat(timeline.of("ov-2")).as("the second replica synced repositories too").isNotEmpty();
            }
        } finally {
            triggers.shutdownNow();
        }
        List<Span> spans = List.copyOf(timeline.spans);
        int moves = 0;
        for (String n : names) {
            List<Span> ofRepo = spans.stream().filter(s -> s.repo().equals(n)).sorted(java.util.Comparator
                    .comparingLong(Span::start)).toList();
            for (int i = 1; i < ofRepo.size(); i++) {
                if (!ofRepo.get(i).replica().equals(ofRepo.get(i - 1).replica())) {
                    moves++;
                }
            }
            for (Span a : ofRepo) {
                for (Span b : ofRepo) {
                    if (!a.replica().equals(b.replica())) {
                        assertThat(a.start() < b.end() && b.start() < a.end()).as("%s synced %s while %s did", a
                                .replica(), n, b.replica()).isFalse();
                    }
                }
            }
        }
        System.out.printf("[ReplicasIT] %d syncs of %d repositories by 2 replicas (%d by ov-1, %d by ov-2), %d "
                + "changes of the syncing replica, no overlap%n", spans.size(), names.size(),
                timeline.of("ov-1")
                        .size(),
                timeline.of("ov-2").size(), moves);
    }

    @Test
    void aKilledOwnersRepositoriesMoveWithin15Seconds() throws Exception {
        // the production defaults: lease-duration 8s, renew-period 2s, handoff-poll 1s
        Timings defaults = new Timings(Duration.ofSeconds(8), Duration.ofSeconds(2), Duration.ofSeconds(1), Duration
                .ofSeconds(20));
        List<String> names = List.of("tk-a", "tk-b", "tk-c", "tk-d");
        Map<String, BareRepo> bare = new LinkedHashMap<>();
        List<RepoSpec> specs = new ArrayList<>();
        for (String n : names) {
            bare.put(n, repos.createBare(n));
            specs.add(seed(bare.get(n), n));
        }
        Timeline timeline = new Timeline();
        Replica r1 = new Replica("tk-1", kube, access, work, specs, timeline, events, defaults);
        try (Replica r2 = new Replica("tk-2", kube, access, work, specs, timeline, events, defaults)) {
            // shared out: each owns two, none owned twice
            await().atMost(Duration.ofSeconds(40)).until(() -> names.stream().filter(r1::owns).count() == 2 && names
                    .stream().filter(r2::owns).count() == 2);
            List<String> victims = names.stream().filter(r1::owns).toList();
            assertThat(victims).noneMatch(r2::owns);
            await().atMost(Duration.ofSeconds(30)).until(() -> names.stream().allMatch(n -> configValue(n) != null));
            for (String n : victims) {
                commit(bare.get(n), n, "after-kill", run(n + "-after"));
            }
            r1.kill();
            long killed = System.nanoTime();
            Map<String, Long> owned = new LinkedHashMap<>();
            Map<String, Long> applied = new LinkedHashMap<>();
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> {
                for (String n : victims) {
                    if (!owned.containsKey(n) && r2.owns(n)) {
                        owned.put(n, System.nanoTime() - killed);
                    }
                    if (!applied.containsKey(n) && "after-kill".equals(configValue(n))) {
                        applied.put(n, System.nanoTime() - killed);
                    }
                }
                return owned.size() == victims.size() && applied.size() == victims.size();
            });
            for (String n : victims) {
                System.out.printf("[ReplicasIT] takeover of %s: owned by tk-2 %d ms after tk-1 was killed, its "
                        + "new commit applied by tk-2 after %d ms (lease 8s, renew 2s)%n", n, owned.get(n) / 1_000_000,
                        applied.get(n) / 1_000_000);
                assertThat(Duration.ofNanos(applied.get(n))).isLessThanOrEqualTo(Duration.ofSeconds(15));
            }
            assertThat(names).allMatch(r2::owns);
        } finally {
            r1.close();
        }
    }

    @Test
    void aPromotionOrWebhookDeliveredToANonOwnerIsSyncedByTheOwner() throws Exception {
        List<String> names = List.of("nh-a", "nh-b");
        Map<String, BareRepo> bare = new LinkedHashMap<>();
        List<RepoSpec> specs = new ArrayList<>();
        for (String n : names) {
            bare.put(n, repos.createBare(n));
            specs.add(seed(bare.get(n), n));
        }
        Timeline timeline = new Timeline();
        try (Replica r1 = new Replica("nh-1", kube, access, work, specs, timeline, events, FAST);
                Replica r2 = new Replica("nh-2", kube, access, work, specs, timeline, events, FAST)) {
            await().atMost(Duration.ofSeconds(20)).until(() -> names.stream().filter(r1::owns).count() == 1 && names
                    .stream().filter(r2::owns).count() == 1);
            String repo = names.stream().filter(r1::owns).findFirst().orElseThrow();
            PipelineRun run = run(repo + "-handed");
            String head = commit(bare.get(repo), repo, "promoted", run);
            // r2 receives the promotion: it hands it over and emits nothing itself
            assertThat(r2.deliver(promoted(run, bare.get(repo), head, repo, "web"))).isEmpty();
            await().atMost(Duration.ofSeconds(60)).until(() -> events.read(Topics.REPO_SYNCED).stream().anyMatch(
                    s -> s.event().run().runId().equals(run.runId())));
            assertThat(events.read(Topics.REPO_SYNCED)).filteredOn(s -> s.event().run().runId().equals(run.runId()))
                    .allSatisfy(s -> {
                        assertThat(s.replica()).isEqualTo("nh-1");
                        assertThat(((RepoSynced) s.event()).revision()).isEqualTo(head);
                    });
            assertThat(configValue(repo)).isEqualTo("promoted");
            // a webhook r2 receives: the owner syncs the commit pushed before it
            commit(bare.get(repo), repo, "hooked", run(repo + "-hook"));
            int r2Syncs = timeline.of("nh-2").size();
            r2.webhook(repo);
            await().atMost(Duration.ofSeconds(60)).until(() -> "hooked".equals(configValue(repo)));
            assertThat(timeline.of("nh-2").stream().filter(s -> s.repo().equals(repo))).as(
                    "the non-owner did not sync it").hasSizeLessThanOrEqualTo(r2Syncs);
            await().atMost(Duration.ofSeconds(10)).until(() -> client.configMaps().inNamespace(
                    ReplicaHarness.NAMESPACE).withLabel(Handoffs.LABEL, repo).list().getItems().isEmpty());
        }
    }

    @Test
    void aHandoffOutlivesAnOwnerThatDiedBeforeHandlingIt() throws Exception {
        List<String> names = List.of("hd-a", "hd-b");
        Map<String, BareRepo> bare = new LinkedHashMap<>();
        List<RepoSpec> specs = new ArrayList<>();
        for (String n : names) {
            bare.put(n, repos.createBare(n));
            specs.add(seed(bare.get(n), n));
        }
        Timeline timeline = new Timeline();
        // r1 never looks for handed-over work on its own: it dies with the handoff unhandled
        Timings deaf = new Timings(FAST.leaseDuration(), FAST.renewPeriod(), Duration.ofHours(1), FAST
                .healthTimeout());
        Replica r1 = new Replica("hd-1", kube, access, work, specs, timeline, events, deaf);
        try (Replica r2 = new Replica("hd-2", kube, access, work, specs, timeline, events, FAST)) {
            await().atMost(Duration.ofSeconds(20)).until(() -> names.stream().filter(r1::owns).count() == 1 && names
                    .stream().filter(r2::owns).count() == 1);
            String repo = names.stream().filter(r1::owns).findFirst().orElseThrow();
            PipelineRun run = run(repo + "-orphan");
            String head = commit(bare.get(repo), repo, "orphan", run);
            assertThat(r2.deliver(promoted(run, bare.get(repo), head, repo, "web"))).isEmpty();
            assertThat(client.configMaps().inNamespace(ReplicaHarness.NAMESPACE).withLabel(Handoffs.LABEL, repo)
                    .list().getItems()).hasSize(1);
            r1.kill();
            await().atMost(Duration.ofSeconds(60)).until(() -> events.read(Topics.REPO_SYNCED).stream().anyMatch(
                    s -> s.event().run().runId().equals(run.runId())));
            assertThat(events.read(Topics.REPO_SYNCED)).filteredOn(s -> s.event().run().runId().equals(run.runId()))
                    .extracting(Events.Sent::replica).containsOnly("hd-2");
            await().atMost(Duration.ofSeconds(10)).until(() -> client.configMaps().inNamespace(
                    ReplicaHarness.NAMESPACE).withLabel(Handoffs.LABEL, repo).list().getItems().isEmpty());
        } finally {
            r1.close();
        }
    }

    @Test
    void theNewOwnerFinishesAKilledOwnersRolloutWaitAndItsRunGetsReleaseHealthyOnce() throws Exception {
        List<String> names = List.of("hw-a", "hw-b");
        Map<String, BareRepo> bare = new LinkedHashMap<>();
        List<RepoSpec> specs = new ArrayList<>();
        for (String n : names) {
            bare.put(n, repos.createBare(n));
            specs.add(seed(bare.get(n), n));
        }
        Timeline timeline = new Timeline();
        Timings waiting = new Timings(FAST.leaseDuration(), FAST.renewPeriod(), FAST.handoffPoll(), Duration
                .ofSeconds(60));
        Replica r1 = new Replica("hw-1", kube, access, work, specs, timeline, events, waiting);
        try (Replica r2 = new Replica("hw-2", kube, access, work, specs, timeline, events, waiting)) {
            await().atMost(Duration.ofSeconds(20)).until(() -> names.stream().filter(r1::owns).count() == 1 && names
                    .stream().filter(r2::owns).count() == 1);
            String repo = names.stream().filter(r1::owns).findFirst().orElseThrow();
            PipelineRun run = run(repo + "-wait");
            // a new image: the release rolls out again, and the run waits for that rollout
            String head = bare.get(repo).writer().file("releases/helm/" + repo + "/web.yaml", SeedRepo.fluxHelmRelease(
                    "web", repo, "shop/web:2", "")).message("promote web 2\n\nConveyor-Run: " + run.runId() + "\n")
                    .commit();
            List<ConveyorEvent> now = r1.deliver(promoted(run, bare.get(repo), head, repo, "web"));
            assertThat(now).singleElement().isInstanceOf(RepoSynced.class);
            await().atMost(Duration.ofSeconds(10)).until(() -> waits(repo).size() == 1);

            r1.kill();
            long killed = System.nanoTime();
            await().atMost(Duration.ofSeconds(15)).until(() -> r2.owns(repo));
            long takeover = System.nanoTime() - killed;
            rollOut(repo, repo + "-web");
            await().atMost(Duration.ofSeconds(30)).until(() -> healthy(run).size() == 1);
            // exactly once: nothing more arrives, from either replica
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> healthy(run)
                    .size() == 1);
            assertThat(healthy(run)).singleElement().satisfies(s -> {
                assertThat(s.replica()).isEqualTo("hw-2");
                assertThat(((ReleaseHealthy) s.event()).revision()).isEqualTo(head);
                assertThat(s.event().causationId()).isEqualTo("ce-" + run.runId());
            });
            assertThat(r1.sent).noneMatch(e -> e instanceof ReleaseHealthy);
            await().atMost(Duration.ofSeconds(10)).until(() -> waits(repo).isEmpty());
            System.out.printf("[ReplicasIT] rollout wait of %s taken over %d ms after its owner was killed (lease 5s,"
                    + " renew 500ms); ReleaseHealthy sent once, by hw-2%n", repo, takeover / 1_000_000);
        } finally {
            r1.close();
        }
    }

    @Test
    void aReplicaThatLostTheRepositoryStopsAtTheNextFenceAndAppliesNothing() throws Exception {
        BareRepo bareRepo = repos.createBare("fence");
        RepoSpec spec = seed(bareRepo, "fence");
        RepoReconciler reconciler = new RepoReconciler(new RepoMirrors(work.resolve("mirrors-fence"), access),
                new KubeCluster(kube.newClient(), "conveyor-flux-sync"), new ChartRenderer(work.resolve("work-fence")),
                new RepoReconciler.Settings("charts", ReplicaHarness.NAMESPACE, Duration.ofSeconds(1), Duration
                        .ofMillis(50), work.resolve("work-fence")),
                new SimpleMeterRegistry(), Clock.systemUTC());
        // the lease is lost right after the sync started (a pause longer than the lease, a partition)
        AtomicInteger checks = new AtomicInteger();
        reconciler.fence(repo -> checks.incrementAndGet() == 1);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> reconciler.sync(spec, Set.of()))
                .isInstanceOf(RepoOwnership.Lost.class).hasMessageContaining("not owned by this flux-sync replica");
        assertThat(checks.get()).isEqualTo(2);
        assertThat(configValue("fence")).isNull();
        assertThat(client.configMaps().inNamespace(ReplicaHarness.NAMESPACE).withName("flux-sync-reported-fence")
                .get()).isNull();
        assertThat(client.configMaps().inNamespace(ReplicaHarness.NAMESPACE).withName("flux-sync-inventory-fence")
                .get()).isNull();
        // owned again: the sync applies
        reconciler.fence(repo -> true);
        reconciler.sync(spec, Set.of());
        assertThat(configValue("fence")).isEqualTo("v0");
    }

    // --- fixtures

    /** A repository with the seed's chart, a release {@code web} and a ConfigMap {@code marker}, in namespace n. */
    static RepoSpec seed(BareRepo repo, String n) {
        SeedRepo.chart(repo.writer()).file("releases/helm/" + n + "/web.yaml", SeedRepo.fluxHelmRelease("web", n,
                "shop/web:1", "")).file("releases/manifests/" + n + "/marker.yaml", SeedRepo.configMap("marker", "v0"))
                .message("seed").commit();
        return new RepoSpec(n, repo.fileUrl(), "main", "", Duration.ofMinutes(5), true, false);
    }

    static String commit(BareRepo repo, String n, String value, PipelineRun run) {
        return repo.writer().file("releases/manifests/" + n + "/marker.yaml", SeedRepo.configMap("marker", value))
                .message("promote " + value + "\n\nConveyor-Run: " + run.runId() + "\n").commit();
    }

    static final AtomicInteger RUNS = new AtomicInteger();

    static PipelineRun run(String name) {
        String sha = String.format("%040x", RUNS.incrementAndGet() * 7919L + name.hashCode() & 0xffffffffL);
        return PipelineRun.start("app-" + name, "https://git.example.com/acme/" + name + ".git", sha, "main", null,
                Flow.CD);
    }

    static ReleasePromoted promoted(PipelineRun run, BareRepo repo, String commit, String ns, String release) {
        return new ReleasePromoted(run, Instant.now(), "ce-" + run.runId(), "chart1", "0.1.0", repo.fileUrl(), "prod",
                ns, release, commit, PromotionMode.AUTO, null);
    }

    static String configValue(String namespace) {
        ConfigMap cm = client.configMaps().inNamespace(namespace).withName("marker").get();
        return cm == null || cm.getData() == null ? null : cm.getData().get("value");
    }

    static Map<String, String> waits(String repo) {
        ConfigMap cm = client.configMaps().inNamespace(ReplicaHarness.NAMESPACE).withName(HealthWaits.configMapName(
                repo)).get();
        return cm == null || cm.getData() == null ? Map.of() : cm.getData();
    }

    static List<Events.Sent> healthy(PipelineRun run) {
        return events.read(Topics.RELEASE_HEALTHY).stream().filter(s -> s.event().run().runId().equals(run.runId()))
                .toList();
    }

    static void rollOut(String namespace, String name) {
        await().atMost(Duration.ofSeconds(30)).until(() -> client.apps().deployments().inNamespace(namespace)
                .withName(name).get() != null);
        Deployment d = client.apps().deployments().inNamespace(namespace).withName(name).get();
        int replicas = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
        d.setStatus(new DeploymentStatusBuilder().withReplicas(replicas).withUpdatedReplicas(replicas)
                .withReadyReplicas(replicas).withAvailableReplicas(replicas).build());
        client.apps().deployments().inNamespace(namespace).resource(d).updateStatus();
    }

}
