package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.domain.DesiredState;
import dev.conveyor.fluxsync.domain.ProblemReason;
import dev.conveyor.fluxsync.domain.SyncProblem;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import dev.conveyor.testkit.kube.ReleaseCrds;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The reconciler against the Kubernetes API stand-in and real git repositories over {@code file://}. The stand-in has
 * no controllers: a rollout is simulated by writing the Deployment's status through the client, as a controller would.
 */
class RepoReconcilerIT {

    static KubernetesApiStandIn kube;
    static GitRepos repos;
    static GitAccess access;
    static Path work;
    static RepoReconciler reconciler;
    static KubernetesClient client;

    @BeforeAll
    static void start() throws Exception {
        kube = KubernetesApiStandIn.start();
        client = kube.client();
        repos = new GitRepos();
        access = GitAccess.create(GitCredentials.none());
        work = Files.createTempDirectory("flux-sync-it");
        reconciler = reconciler(Duration.ofMillis(300));
    }

    static RepoReconciler reconciler(Duration healthTimeout) {
        return new RepoReconciler(new RepoMirrors(work.resolve("mirrors"), access), new KubeCluster(kube.newClient(),
                "conveyor-flux-sync"), new ChartRenderer(work.resolve("work")),
                new RepoReconciler.Settings("charts",
                        "conveyor", healthTimeout, Duration.ofMillis(50), work.resolve("work")),
                new SimpleMeterRegistry(), Clock.systemUTC());
    }

    @AfterAll
    static void stop() {
        access.close();
        repos.close();
        kube.close();
    }

    static RepoSpec spec(String name, BareRepo repo) {
        return new RepoSpec(name, repo.fileUrl(), "main", "", Duration.ofMinutes(5), true, false);
    }

    @Test
    void theSeedLayoutIsSyncedEndToEndAndAResyncChangesNothing() throws Exception {
        BareRepo repo = repos.createBare("seed-layout");
        SeedRepo.chart(repo.writer()).file("namespaces/tools.yaml", SeedRepo.namespace("tools"))
                .file("namespaces/cp.yaml", SeedRepo.namespace("cp"))
                .file("releases/manifests/tools/app1-deployment.yaml", SeedRepo.deployment("app1"))
                .file("releases/manifests/cp/app2-config.yaml", SeedRepo.configMap("app2", "x"))
                .file("releases/helm/tools/chart1release.yaml", SeedRepo.fluxHelmRelease("chart1-tools", "tools",
                        "stakater/helloworld:latest", ""))
                .file("releases/helm/cp/operator.yaml", SeedRepo.helmOperatorRelease("op", "cp"))
                .file("releases/helm/cp/flux2.yaml", SeedRepo.flux2Release("v2", "cp", ""))
                .file("docs/example.yaml", SeedRepo.configMap("example", "x"))
                .message("seed layout\n\nConveyor-Run: r-0123456789abcdef01234567\n").commit();

        LogCapture logs = LogCapture.install();
        SyncResult first = reconciler.sync(spec("seed", repo), Set.of());

        assertThat(first.problems()).isEmpty();
        assertThat(first.runIds()).containsExactly("r-0123456789abcdef01234567");
        // a directory outside the seed's is not applied, and that is reported: result, status, ConfigMap
        assertThat(client.configMaps().inNamespace("default").withName("example").get()).isNull();
        assertThat(first.skipped()).extracting(DesiredState.Skipped::path).contains("docs/");
        assertThat(first.skipped()).filteredOn(k -> k.path().equals("docs/")).singleElement().satisfies(
                k -> assertThat(k.reason()).contains("outside the seed layout"));
        assertThat(reconciler.skipped("seed")).isEqualTo(first.skipped());
        assertThat(client.configMaps().inNamespace("conveyor").withName("flux-sync-inventory-seed").get().getData()
                .get("skipped")).contains("docs/\t");
        assertThat(client.namespaces().withName("tools").get()).isNotNull();
        assertThat(client.apps().deployments().inNamespace("tools").withName("app1").get().getSpec().getReplicas())
                .isEqualTo(2);
        assertThat(client.configMaps().inNamespace("cp").withName("app2").get().getData()).containsEntry("value",
                "x");
        // FluxHelmRelease: release name defaults to none here (spec.releaseName absent) → $namespace-$name
        Deployment fhr = client.apps().deployments().inNamespace("tools").withName("tools-chart1-tools").get();
        assertThat(fhr.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
                .isEqualTo("stakater/helloworld:latest");
        assertThat(fhr.getMetadata().getLabels()).containsEntry(KubeCluster.REPO_LABEL, "seed");
        assertThat(client.services().inNamespace("tools").withName("tools-chart1-tools").get()).isNotNull();
        assertThat(client.apps().deployments().inNamespace("cp").withName("op").get().getSpec().getReplicas())
                .isEqualTo(3);
        assertThat(client.apps().deployments().inNamespace("cp").withName("v2").get()).isNotNull();
        // 2 namespaces + deployment + configmap + 3 release objects + 3 x (deployment + service)
        assertThat(first.summary().created()).isEqualTo(13);
        // no controller: the rollouts never finish, so the releases are degraded with a clear reason
        assertThat(first.releases()).allSatisfy(r -> {
            assertThat(r.state()).isEqualTo(ReleaseResult.State.DEGRADED);
            assertThat(r.reason()).isEqualTo(ProblemReason.ROLLOUT_TIMEOUT);
        });
        GenericKubernetesResource release = client.genericKubernetesResources(ReleaseCrds.FLUX_HELM_RELEASE)
                .inNamespace("tools").withName("chart1-tools").get();
        @SuppressWarnings("unchecked")
        Map<String, Object> status = (Map<String, Object>) release.getAdditionalProperties().get("status");
        assertThat(status).containsEntry("lastAppliedRevision", first.revision());
        assertThat(status.get("conditions").toString()).contains("type=Ready, status=False, reason=RolloutTimeout")
                .contains("type=Stalled, status=False");

        // Helm's release records: what "helm list" reads (helm itself cannot list against the stand-in, whose
        // answers lack the content type client-go needs; RealClusterIT runs helm list on a real cluster)
        assertThat(helmRecords("tools", "tools-chart1-tools"))
                .containsExactly("sh.helm.release.v1.tools-chart1-tools.v1"
                        + " deployed chart1 0.1.0 deployed");
        assertThat(helmRecords("cp", "op")).containsExactly("sh.helm.release.v1.op.v1 deployed chart1 0.1.0 deployed");

        reconciler.reported(first);
        SyncResult again = reconciler.sync(spec("seed", repo), Set.of());

        assertThat(again.newRevision()).isFalse();
        assertThat(again.runIds()).isEmpty();
        assertThat(again.summary().created()).isZero();
        assertThat(again.summary().updated()).isZero();
        assertThat(again.summary().pruned()).isZero();
        assertThat(again.summary().unchanged()).isEqualTo(13);
        // the log: every sync's summary counts what is not applied; the paths are listed at info once per revision
        logs.close();
        String log = logs.text();
        assertThat(log.split("repo seed synced ", -1)).hasSize(3);
        assertThat(log).contains(first.skipped().size() + " not applied (skipped)");
        assertThat(log.split("repo seed at \\w+: \\d+ not applied: ", -1)).hasSize(2);
        assertThat(log).contains("docs/: ");

        // a changed release is a new helm revision; a removed one leaves helm's list
        repo.writer().file("releases/helm/tools/chart1release.yaml", SeedRepo.fluxHelmRelease("chart1-tools", "tools",
                "stakater/helloworld:2", "")).delete("releases/helm/cp/flux2.yaml").message("upgrade").commit();
        reconciler.sync(spec("seed", repo), Set.of());
        assertThat(helmRecords("tools", "tools-chart1-tools")).containsExactlyInAnyOrder(
                "sh.helm.release.v1.tools-chart1-tools.v1 superseded chart1 0.1.0 superseded",
                "sh.helm.release.v1.tools-chart1-tools.v2 deployed chart1 0.1.0 deployed");
        assertThat(helmRecords("cp", "v2")).isEmpty();
        assertThat(helmRecords("cp", "op")).hasSize(1);
        assertThat(client.apps().deployments().inNamespace("cp").withName("v2").get()).isNull();
    }

    @Test
    void objectsRemovedFromGitArePrunedAndDriftIsRestored() {
        BareRepo repo = repos.createBare("prune-drift");
        repo.writer().file("releases/manifests/pd/keep.yaml", SeedRepo.configMap("keep", "1"))
                .file("releases/manifests/pd/gone.yaml", SeedRepo.configMap("gone", "1"))
                .file("releases/manifests/pd/web.yaml", SeedRepo.deployment("web")).message("two").commit();
        reconciler.sync(spec("pd", repo), Set.of());
        assertThat(client.configMaps().inNamespace("pd").withName("gone").get()).isNotNull();

        // drift: someone scales the deployment and edits the config map behind git's back
        client.apps().deployments().inNamespace("pd").withName("web").edit(d -> {
            d.getSpec().setReplicas(7);
            return d;
        });
        client.configMaps().inNamespace("pd").withName("keep").edit(c -> {
            c.getData().put("value", "changed");
            return c;
        });
        SyncResult drift = reconciler.sync(spec("pd", repo), Set.of());
        assertThat(drift.drifted()).isEqualTo(2);
        assertThat(drift.summary().updated()).isEqualTo(2);
        assertThat(client.apps().deployments().inNamespace("pd").withName("web").get().getSpec().getReplicas())
                .isEqualTo(2);
        assertThat(client.configMaps().inNamespace("pd").withName("keep").get().getData()).containsEntry("value",
                "1");

        repo.writer().delete("releases/manifests/pd/gone.yaml").message("remove gone").commit();
        SyncResult pruned = reconciler.sync(spec("pd", repo), Set.of());
        assertThat(pruned.summary().pruned()).isEqualTo(1);
        assertThat(client.configMaps().inNamespace("pd").withName("gone").get()).isNull();
        assertThat(client.configMaps().inNamespace("pd").withName("keep").get()).isNotNull();

        // a changed value in git is an update, not a drift
        repo.writer().file("releases/manifests/pd/keep.yaml", SeedRepo.configMap("keep", "2")).message("v2")
                .commit();
        SyncResult update = reconciler.sync(spec("pd", repo), Set.of());
        assertThat(update.summary().updated()).isEqualTo(1);
        assertThat(update.drifted()).isZero();
        assertThat(client.configMaps().inNamespace("pd").withName("keep").get().getData()).containsEntry("value",
                "2");
    }

    @Test
    void pruneCanBeTurnedOffPerRepository() {
        BareRepo repo = repos.createBare("no-prune");
        repo.writer().file("releases/manifests/np/a.yaml", SeedRepo.configMap("a", "1")).message("a").commit();
        RepoSpec spec = new RepoSpec("np", repo.fileUrl(), "main", "", Duration.ofMinutes(5), false, false);
        reconciler.sync(spec, Set.of());
        repo.writer().delete("releases/manifests/np/a.yaml").file("releases/manifests/np/b.yaml", SeedRepo
                .configMap("b", "1")).message("b").commit();
        SyncResult r = reconciler.sync(spec, Set.of());
        assertThat(r.summary().pruned()).isZero();
        assertThat(client.configMaps().inNamespace("np").withName("a").get()).isNotNull();
    }

    @Test
    void aBadFileAndABrokenReleaseFailAloneWhileTheRestSyncs() {
        BareRepo repo = repos.createBare("bad-input");
        SeedRepo.chart(repo.writer())
                .file("releases/manifests/bad/good.yaml", SeedRepo.configMap("good", "1"))
                .file("releases/manifests/bad/broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n")
                .file("releases/manifests/bad/nokind.yaml", "apiVersion: v1\nmetadata:\n  name: x\n")
                .file("releases/manifests/bad/unknown.yaml",
                        "apiVersion: example.com/v1\nkind: Gizmo\nmetadata:\n  name: g\n")
                .file("releases/helm/bad/escape.yaml", """
                        apiVersion: helm.integrations.flux.weave.works/v1alpha2
                        kind: FluxHelmRelease
                        metadata:
                          name: escape
                          labels:
                            chart: passwd
                        spec:
                          chartGitPath: ../../etc/passwd
                        """)
                .file("releases/helm/bad/ok.yaml", SeedRepo.fluxHelmRelease("ok", "bad", "nginx:1", ""))
                .message("mixed").commit();

        SyncResult r = reconciler.sync(spec("bad", repo), Set.of());

        assertThat(r.problems()).extracting(SyncProblem::reason).containsExactlyInAnyOrder(
                ProblemReason.INVALID_FILE, ProblemReason.INVALID_OBJECT, ProblemReason.UNKNOWN_KIND,
                ProblemReason.CHART_PATH_ESCAPES);
        assertThat(r.problems()).filteredOn(p -> p.reason() == ProblemReason.INVALID_FILE).singleElement()
                .satisfies(p -> assertThat(p.message()).contains("releases/manifests/bad/broken.yaml"));
        assertThat(r.problems()).filteredOn(p -> p.reason() == ProblemReason.CHART_PATH_ESCAPES).singleElement()
                .satisfies(p -> assertThat(p.message()).contains("spec.chartGitPath").contains("leaves charts/"));
        assertThat(client.configMaps().inNamespace("bad").withName("good").get()).isNotNull();
        assertThat(client.apps().deployments().inNamespace("bad").withName("bad-ok").get()).isNotNull();
        assertThat(r.releases()).filteredOn(x -> x.name().equals("escape")).singleElement().satisfies(x -> {
            assertThat(x.state()).isEqualTo(ReleaseResult.State.FAILED);
            assertThat(x.reason()).isEqualTo(ProblemReason.CHART_PATH_ESCAPES);
        });
        // the broken release object carries the condition; the problems are Kubernetes events
        GenericKubernetesResource escape = client.genericKubernetesResources(ReleaseCrds.FLUX_HELM_RELEASE)
                .inNamespace("bad").withName("escape").get();
        assertThat(escape.getAdditionalProperties().get("status").toString()).contains("reason=ChartPathEscapes");
        assertThat(client.v1().events().inNamespace("conveyor").withLabel(KubeCluster.REPO_LABEL, "bad").list()
                .getItems()).extracting(e -> e.getReason()).contains("InvalidFile", "ChartPathEscapes");
    }

    @Test
    void aSuspendedReleaseIsLeftAloneAndAResumedOneIsApplied() {
        BareRepo repo = repos.createBare("suspend");
        SeedRepo.chart(repo.writer()).file("releases/helm/sus/a.yaml", SeedRepo.fluxHelmRelease("a", "sus",
                "nginx:1", "\"conveyor.dev/suspend\": \"true\"")).message("suspended").commit();
        SyncResult r = reconciler.sync(spec("sus", repo), Set.of());
        assertThat(r.releases()).singleElement().extracting(ReleaseResult::state)
                .isEqualTo(ReleaseResult.State.SUSPENDED);
        assertThat(client.apps().deployments().inNamespace("sus").withName("sus-a").get()).isNull();

        repo.writer().file("releases/helm/sus/a.yaml", SeedRepo.fluxHelmRelease("a", "sus", "nginx:1", ""))
                .message("resume").commit();
        reconciler.sync(spec("sus", repo), Set.of());
        assertThat(client.apps().deployments().inNamespace("sus").withName("sus-a").get()).isNotNull();

        // suspending again keeps its objects: nothing of a suspended release is pruned
        repo.writer().file("releases/helm/sus/a.yaml", SeedRepo.fluxHelmRelease("a", "sus", "nginx:2",
                "\"conveyor.dev/suspend\": \"true\"")).message("suspend again").commit();
        SyncResult again = reconciler.sync(spec("sus", repo), Set.of());
        assertThat(again.summary().pruned()).isZero();
        assertThat(client.apps().deployments().inNamespace("sus").withName("sus-a").get().getSpec().getTemplate()
                .getSpec().getContainers().get(0).getImage()).isEqualTo("nginx:1");
    }

    @Test
    void aReleaseWaitsForTheReleasesItDependsOnToBeHealthy() throws Exception {
        BareRepo repo = repos.createBare("depends");
        SeedRepo.chart(repo.writer()).file("releases/helm/dep/base.yaml", SeedRepo.flux2Release("base", "dep", ""))
                .file("releases/helm/dep/app.yaml", SeedRepo.flux2Release("app", "dep", "{name: base}"))
                .message("two").commit();
        // base never becomes ready: app is not applied
        SyncResult blocked = reconciler.sync(spec("dep", repo), Set.of());
        assertThat(blocked.releases()).filteredOn(r -> r.name().equals("app")).singleElement().satisfies(r -> {
            assertThat(r.state()).isEqualTo(ReleaseResult.State.FAILED);
            assertThat(r.reason()).isEqualTo(ProblemReason.DEPENDENCY_NOT_READY);
        });
        assertThat(client.apps().deployments().inNamespace("dep").withName("app").get()).isNull();

        // the controller finishes base's rollout while the next sync waits: app follows
        RepoReconciler patient = reconciler(Duration.ofSeconds(20));
        CompletableFuture<SyncResult> sync = CompletableFuture.supplyAsync(() -> patient.sync(spec("dep", repo), Set
                .of()));
        rollOut("dep", "base");
        await().atMost(Duration.ofSeconds(30)).until(() -> client.apps().deployments().inNamespace("dep").withName(
                "app").get() != null);
        rollOut("dep", "app");
        SyncResult done = sync.get();
        assertThat(done.releases()).extracting(ReleaseResult::name, ReleaseResult::state).containsExactly(
                org.assertj.core.groups.Tuple.tuple("base", ReleaseResult.State.HEALTHY),
                org.assertj.core.groups.Tuple.tuple("app", ReleaseResult.State.HEALTHY));
    }

    @Test
    void aFailedUpgradeIsRolledBackWhenTheReleaseAsksForIt() throws Exception {
        BareRepo repo = repos.createBare("rollback");
        String rollback = "\"conveyor.dev/rollback-on-failure\": \"true\"";
        SeedRepo.chart(repo.writer()).file("releases/helm/rb/web.yaml", SeedRepo.fluxHelmRelease("web", "rb",
                "shop/web:1", rollback)).message("v1").commit();
        RepoReconciler patient = reconciler(Duration.ofSeconds(20));
        CompletableFuture<SyncResult> first = CompletableFuture.supplyAsync(() -> patient.sync(spec("rb", repo), Set
                .of()));
        rollOut("rb", "rb-web");
        assertThat(first.get().releases()).singleElement().extracting(ReleaseResult::state).isEqualTo(
                ReleaseResult.State.HEALTHY);

        repo.writer().file("releases/helm/rb/web.yaml", SeedRepo.fluxHelmRelease("web", "rb", "shop/web:2",
                rollback)).message("v2").commit();
        CompletableFuture<SyncResult> second = CompletableFuture.supplyAsync(() -> patient.sync(spec("rb", repo), Set
                .of()));
        await().atMost(Duration.ofSeconds(30)).until(() -> "shop/web:2".equals(image("rb", "rb-web")));
        Deployment d = client.apps().deployments().inNamespace("rb").withName("rb-web").get();
        d.setStatus(new DeploymentStatusBuilder().withReplicas(1).withConditions(
                new io.fabric8.kubernetes.api.model.apps.DeploymentConditionBuilder().withType("Progressing")
                        .withStatus("False").withReason("ProgressDeadlineExceeded").build())
                .build());
        client.apps().deployments().inNamespace("rb").resource(d).updateStatus();

        assertThat(second.get().releases()).singleElement().satisfies(r -> {
            assertThat(r.state()).isEqualTo(ReleaseResult.State.DEGRADED);
            assertThat(r.reason()).isEqualTo(ProblemReason.ROLLED_BACK);
        });
        assertThat(image("rb", "rb-web")).isEqualTo("shop/web:1");
        assertThat(helmRecords("rb", "rb-web")).contains("sh.helm.release.v1.rb-web.v3 deployed chart1 0.1.0 deployed");
        // the failed version is not applied again until git changes it
        SyncResult third = patient.sync(spec("rb", repo), Set.of());
        assertThat(third.releases()).singleElement().extracting(ReleaseResult::reason)
                .isEqualTo(ProblemReason.ROLLED_BACK);
        assertThat(image("rb", "rb-web")).isEqualTo("shop/web:1");
    }

    @Test
    void offTheSyncARolloutIsAwaitedLaterAndAFailedUpgradeIsStillRolledBack() throws Exception {
        BareRepo repo = repos.createBare("deferred");
        String rollback = "\"conveyor.dev/rollback-on-failure\": \"true\"";
        SeedRepo.chart(repo.writer()).file("releases/helm/df/web.yaml", SeedRepo.fluxHelmRelease("web", "df",
                "shop/web:1", rollback)).message("v1").commit();
        RepoReconciler patient = reconciler(Duration.ofSeconds(20));
        java.util.concurrent.ExecutorService health = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            // the sync returns before the rollout: the release is progressing, its outcome comes with the future
            SyncResult first = patient.sync(spec("df", repo), Set.of(), health);
            assertThat(first.releases()).singleElement().extracting(ReleaseResult::state).isEqualTo(
                    ReleaseResult.State.PROGRESSING);
            assertThat(first.health().get("df/web").isDone()).isFalse();
            assertThat(conditions("df", "web")).contains("type=Reconciling, status=True");
            rollOut("df", "df-web");
            assertThat(first.health().get("df/web").get(30, java.util.concurrent.TimeUnit.SECONDS).state())
                    .isEqualTo(ReleaseResult.State.HEALTHY);
            await().atMost(Duration.ofSeconds(10)).until(() -> conditions("df", "web").contains(
                    "type=Ready, status=True"));

            repo.writer().file("releases/helm/df/web.yaml", SeedRepo.fluxHelmRelease("web", "df", "shop/web:2",
                    rollback)).message("v2").commit();
            SyncResult second = patient.sync(spec("df", repo), Set.of(), health);
            assertThat(image("df", "df-web")).isEqualTo("shop/web:2");
            Deployment d = client.apps().deployments().inNamespace("df").withName("df-web").get();
            d.setStatus(new DeploymentStatusBuilder().withReplicas(1).withConditions(
                    new io.fabric8.kubernetes.api.model.apps.DeploymentConditionBuilder().withType("Progressing")
                            .withStatus("False").withReason("ProgressDeadlineExceeded").build())
                    .build());
            client.apps().deployments().inNamespace("df").resource(d).updateStatus();

            ReleaseResult outcome = second.health().get("df/web").get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(outcome.state()).isEqualTo(ReleaseResult.State.DEGRADED);
            assertThat(outcome.reason()).isEqualTo(ProblemReason.ROLLED_BACK);
            assertThat(image("df", "df-web")).isEqualTo("shop/web:1");
            assertThat(conditions("df", "web")).contains("type=Ready, status=False, reason=RolledBack");
        } finally {
            health.shutdownNow();
        }
    }

    @SuppressWarnings("unchecked")
    static String conditions(String namespace, String name) {
        GenericKubernetesResource r = client.genericKubernetesResources(ReleaseCrds.FLUX_HELM_RELEASE).inNamespace(
                namespace).withName(name).get();
        Map<String, Object> status = (Map<String, Object>) r.getAdditionalProperties().get("status");
        return String.valueOf(status == null ? null : status.get("conditions"));
    }

    static String image(String namespace, String name) {
        Deployment d = client.apps().deployments().inNamespace(namespace).withName(name).get();
        return d == null ? null : d.getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
    }

    @Test
    void twoRepositoriesSyncAtOnceWithoutTouchingEachOther() throws Exception {
        BareRepo one = repos.createBare("two-a");
        BareRepo two = repos.createBare("two-b");
        one.writer().file("releases/manifests/shared/a.yaml", SeedRepo.configMap("from-a", "a")).message("a")
                .commit();
        two.writer().file("releases/manifests/shared/b.yaml", SeedRepo.configMap("from-b", "b")).message("b")
                .commit();
        CompletableFuture<SyncResult> a = CompletableFuture.supplyAsync(() -> reconciler.sync(spec("ra", one), Set
                .of()));
        CompletableFuture<SyncResult> b = CompletableFuture.supplyAsync(() -> reconciler.sync(spec("rb", two), Set
                .of()));
        assertThat(List.of(a.get(), b.get())).allSatisfy(r -> assertThat(r.summary().created()).isEqualTo(1));

        one.writer().delete("releases/manifests/shared/a.yaml").message("empty").commit();
        SyncResult pruned = reconciler.sync(spec("ra", one), Set.of());
        assertThat(pruned.summary().pruned()).isEqualTo(1);
        assertThat(client.configMaps().inNamespace("shared").withName("from-a").get()).isNull();
        assertThat(client.configMaps().inNamespace("shared").withName("from-b").get().getMetadata().getLabels())
                .containsEntry(KubeCluster.REPO_LABEL, "rb");
    }

    /** {@code name label-status chart version payload-status} of each Helm record of a release. */
    static List<String> helmRecords(String namespace, String release) throws Exception {
        return HelmRecords.of(client, namespace, release).stream().map(r -> {
            assertThat(r.manifest()).contains("kind: Deployment");
            return r.secret() + " " + r.status() + " " + r.chartName() + " " + r.chartVersion() + " " + r
                    .infoStatus();
        }).toList();
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
