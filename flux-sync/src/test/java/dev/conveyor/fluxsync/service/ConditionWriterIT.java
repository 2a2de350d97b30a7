package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.conveyor.fluxsync.domain.ObjectRef;
import dev.conveyor.fluxsync.domain.ProblemReason;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import dev.conveyor.testkit.kube.ReleaseCrds;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;

/** Phase "write conditions" against the API stand-in: written on the status, only when they change. */
class ConditionWriterIT {

    static KubernetesApiStandIn kube;
    static ConditionWriter writer;

    @BeforeAll
    static void start() {
        kube = KubernetesApiStandIn.start();
        writer = new ConditionWriter(PhasesStandIn.cluster(kube), Clock.systemUTC());
    }

    @AfterAll
    static void stop() {
        kube.close();
    }

    @Test
    void conditionsAreWrittenOnceAndAgainWhenTheyChange() {
        kube.client().genericKubernetesResources(ReleaseCrds.HELM_OPERATOR_RELEASE).inNamespace("cw").resource(
                new GenericKubernetesResourceBuilder().withApiVersion("helm.fluxcd.io/v1").withKind("HelmRelease")
                        .withNewMetadata().withName("web").withNamespace("cw").endMetadata().build())
                .create();
        ObjectRef ref = new ObjectRef("helm.fluxcd.io/v1", "HelmRelease", "cw", "web");
        RepoState state = new RepoState();
        ReleaseResult timedOut = new ReleaseResult("cw", "web", "web", ReleaseResult.State.DEGRADED, List.of(),
                ProblemReason.ROLLOUT_TIMEOUT, "not ready after 5 s", true);

        assertThat(writer.write(state, "cw/web", ref, timedOut, "rev1")).isTrue();
        assertThat(writer.write(state, "cw/web", ref, timedOut, "rev1")).as("unchanged").isFalse();
        assertThat(status()).contains("type=Ready, status=False, reason=RolloutTimeout, message=not ready after 5 s")
                .contains("lastAppliedRevision=rev1");

        ReleaseResult healthy = new ReleaseResult("cw", "web", "web", ReleaseResult.State.HEALTHY, List.of(),
                ProblemReason.SUCCEEDED, "all 1 workloads are ready", false);
        assertThat(writer.write(state, "cw/web", ref, healthy, "rev1")).isTrue();
        assertThat(status()).contains("type=Ready, status=True, reason=ReconciliationSucceeded");
    }

    static String status() {
        return String.valueOf(kube.client().genericKubernetesResources(ReleaseCrds.HELM_OPERATOR_RELEASE)
                .inNamespace("cw").withName("web").get().getAdditionalProperties().get("status"));
    }
}
