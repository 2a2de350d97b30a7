package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.conveyor.fluxsync.domain.ObjectRef;
import dev.conveyor.fluxsync.domain.ProblemReason;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentConditionBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;

/** Phase "wait for health" against the API stand-in (the test plays the Deployment controller). */
class HealthCheckIT {

    static KubernetesApiStandIn kube;
    static HealthCheck health;

    @BeforeAll
    static void start() {
        kube = KubernetesApiStandIn.start();
        health = new HealthCheck(PhasesStandIn.cluster(kube), Duration.ofMillis(300), Duration.ofMillis(20));
    }

    @AfterAll
    static void stop() {
        kube.close();
    }

    static HealthCheck.Target deployment(String namespace, String name) {
        new Applier(PhasesStandIn.cluster(kube)).apply(PhasesStandIn.repo("hc"), new Applier.LiveObjects(), List.of(
                PhasesStandIn.object("release:" + namespace + "/" + name, "apps/v1", "Deployment", namespace, name)),
                Set.of());
        return new HealthCheck.Target(new ObjectRef("helm.fluxcd.io/v1", "HelmRelease", namespace, name), name, List
                .of(new ObjectRef("apps/v1", "Deployment", namespace, name)), true);
    }

    static void status(String namespace, String name, boolean failed) {
        status(kube, namespace, name, failed);
    }

    /** Plays the Deployment controller: the Deployment rolled out, or failed ({@code ProgressDeadlineExceeded}). */
    static void status(KubernetesApiStandIn kube, String namespace, String name, boolean failed) {
        Deployment d = kube.client().apps().deployments().inNamespace(namespace).withName(name).get();
        var s = new DeploymentStatusBuilder().withReplicas(1).withObservedGeneration(d.getMetadata().getGeneration());
        if (failed) {
            s.withUpdatedReplicas(0).withConditions(new DeploymentConditionBuilder().withType("Progressing")
                    .withStatus("False").withReason("ProgressDeadlineExceeded").withMessage("stuck").build());
        } else {
            s.withUpdatedReplicas(1).withReadyReplicas(1).withAvailableReplicas(1);
        }
        d.setStatus(s.build());
        kube.client().apps().deployments().inNamespace(namespace).resource(d).updateStatus();
    }

    @Test
    void notRolledOutTimesOutAndALookSaysStillNotReady() {
        HealthCheck.Target t = deployment("h1", "web");
        ReleaseResult waited = health.await(t);
        assertThat(waited.state()).isEqualTo(ReleaseResult.State.DEGRADED);
        assertThat(waited.reason()).isEqualTo(ProblemReason.ROLLOUT_TIMEOUT);
        assertThat(waited.message()).startsWith("not ready after 0 s: Deployment h1/web");
        ReleaseResult looked = health.once(t, ProblemReason.ROLLOUT_TIMEOUT);
        assertThat(looked.state()).isEqualTo(ReleaseResult.State.DEGRADED);
        assertThat(looked.reason()).isEqualTo(ProblemReason.ROLLOUT_TIMEOUT);
        assertThat(looked.message()).startsWith("not ready yet: ");
        assertThat(looked.workloads()).containsExactly("Deployment/h1/web");
    }

    @Test
    void rolledOutIsHealthyAndAFailedRolloutIsReportedAtOnce() {
        HealthCheck.Target ok = deployment("h2", "ok");
        status("h2", "ok", false);
        assertThat(health.once(ok, ProblemReason.PROGRESSING).state()).isEqualTo(ReleaseResult.State.HEALTHY);
        assertThat(health.await(ok).reason()).isEqualTo(ProblemReason.SUCCEEDED);

        HealthCheck.Target bad = deployment("h2", "bad");
        status("h2", "bad", true);
        ReleaseResult failed = health.await(bad);
        assertThat(failed.reason()).isEqualTo(ProblemReason.ROLLOUT_FAILED);
        assertThat(failed.message()).contains("progress deadline exceeded");
    }

    @Test
    void aRolloutThatEndsSoonAfterTheFirstLookIsSeenLongBeforeThePollInterval() throws Exception {
        HealthCheck slow = new HealthCheck(PhasesStandIn.cluster(kube), Duration.ofSeconds(60), Duration.ofSeconds(20));
        HealthCheck.Target t = deployment("h5", "soon");
        long before = kube.requests();
        CompletableFuture<ReleaseResult> waited = CompletableFuture.supplyAsync(() -> slow.await(t));
        // the first look found it not rolled out; then the controller reports it rolled out
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> kube.requests() > before);
        status("h5", "soon", false);
        // a fixed 20 s interval would look again after 20 s; the looks after the first come 0.1, 0.2, 0.4 s… apart
        assertThat(waited.get(10, TimeUnit.SECONDS).reason()).isEqualTo(ProblemReason.SUCCEEDED);
    }

    @Test
    void aWorkloadTakenFromAListIsJudgedByItsKindAndNotReadAgain() {
        HealthCheck.Target t = deployment("h4", "listed");
        // a real API server's list items carry no kind nor apiVersion: still a Deployment that is not rolled out
        Map<String, Object> item = new LinkedHashMap<>(PhasesStandIn.cluster(kube).get(t.workloads().get(0))
                .orElseThrow());
        item.remove("kind");
        item.remove("apiVersion");
        ReleaseResult fromList = health.once(t, ProblemReason.PROGRESSING, w -> Optional.of(item));
        assertThat(fromList.state()).isEqualTo(ReleaseResult.State.DEGRADED);
        assertThat(fromList.reason()).isEqualTo(ProblemReason.PROGRESSING);
        assertThat(fromList.message()).contains("Deployment h4/listed: 0 of 1 replicas updated");

        // the list is what is judged (the API server is not asked): rolled out in the cluster, not in the list
        status("h4", "listed", false);
        assertThat(health.once(t, ProblemReason.PROGRESSING, w -> Optional.of(item)).state()).isEqualTo(
                ReleaseResult.State.DEGRADED);
        // a workload the list does not hold is read from the API server
        assertThat(health.once(t, ProblemReason.PROGRESSING, w -> Optional.empty()).state()).isEqualTo(
                ReleaseResult.State.HEALTHY);
    }

    @Test
    void aMissingWorkloadIsNotReady() {
        HealthCheck.Target t = new HealthCheck.Target(new ObjectRef("helm.fluxcd.io/v1", "HelmRelease", "h3", "x"),
                "x", List.of(new ObjectRef("apps/v1", "Deployment", "h3", "gone")), false);
        assertThat(health.once(t, ProblemReason.PROGRESSING)).satisfies(r -> {
            assertThat(r.reason()).isEqualTo(ProblemReason.PROGRESSING);
            assertThat(r.message()).contains("Deployment h3/gone is missing");
        });
    }
}
