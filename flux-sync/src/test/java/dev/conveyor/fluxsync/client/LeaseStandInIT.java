package dev.conveyor.fluxsync.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * What {@link RepoLeases} relies on, checked against the API stand-in as it is (fabric8's CRUD mock): Leases
 * ({@code coordination.k8s.io/v1}) are served, a second create of one name is refused with 409, and an update carrying
 * a resourceVersion that is no longer current is refused with 409 (so of two replicas that read the same free Lease,
 * only one takes it).
 */
class LeaseStandInIT {

    static KubernetesApiStandIn kube;
    static KubernetesClient client;

    @BeforeAll
    static void start() {
        kube = KubernetesApiStandIn.start();
        client = kube.client();
    }

    @AfterAll
    static void stop() {
        kube.close();
    }

    @Test
    void leasesAreServedWithCreateAndResourceVersionConflicts() {
        Lease lease = new LeaseBuilder().withNewMetadata().withName("flux-sync-repo-x").withNamespace("conveyor")
                .endMetadata().withNewSpec().withHolderIdentity("a").withLeaseDurationSeconds(8).withRenewTime(
                        ZonedDateTime.now(ZoneOffset.UTC))
                .endSpec().build();
        Lease created = client.leases().inNamespace("conveyor").resource(lease).create();
        assertThat(created.getMetadata().getResourceVersion()).isNotBlank();
        assertThatThrownBy(() -> client.leases().inNamespace("conveyor").resource(lease).create())
                .isInstanceOfSatisfying(
                        KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(409));

        // two replicas read the same version; the first update wins, the second is refused
        Lease byB = client.leases().inNamespace("conveyor").resource(new LeaseBuilder(created).editSpec()
                .withHolderIdentity("b").endSpec().build()).update();
        assertThat(byB.getSpec().getHolderIdentity()).isEqualTo("b");
        assertThat(byB.getMetadata().getResourceVersion()).isNotEqualTo(created.getMetadata().getResourceVersion());
        assertThatThrownBy(() -> client.leases().inNamespace("conveyor").resource(new LeaseBuilder(created).editSpec()
                .withHolderIdentity("c").endSpec().build()).update()).isInstanceOfSatisfying(
                        KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(409));
        assertThat(client.leases().inNamespace("conveyor").withName("flux-sync-repo-x").get().getSpec()
                .getHolderIdentity()).isEqualTo("b");
    }
}
