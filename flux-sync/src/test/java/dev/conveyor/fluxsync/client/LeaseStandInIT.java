package dev.conveyor.fluxsync.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Set;

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

    @Test
    void aReplicaRestartedWithItsIdentityTakesItsLeasesBackWithoutWaitingForThemToExpire() {
        RepoLeases.Listener listener = new RepoLeases.Listener() {
            @Override
            public void acquired(String repo) {
            }

            @Override
            public void lost(String repo) {
            }

            @Override
            public boolean whileIdle(String repo, Runnable handBack) {
                handBack.run();
                return true;
            }
        };
        // a lease long enough that waiting for its expiry would fail the await below
        RepoLeases.Settings settings = new RepoLeases.Settings("restart", "flux-sync-2", Duration.ofSeconds(60),
                Duration.ofMillis(200));
        RepoLeases before = new RepoLeases(client, settings, Set.of("gitops"), listener).start();
        await().atMost(Duration.ofSeconds(10)).until(() -> before.owns("gitops"));
        before.stop(); // a crash: nothing freed

        RepoLeases after = new RepoLeases(client, settings, Set.of("gitops"), listener).start();
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> after.owns("gitops"));
        } finally {
            after.stop();
        }
    }
}
