package dev.conveyor.fluxsync.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.conveyor.fluxsync.client.Handoffs;
import dev.conveyor.fluxsync.rest.WebhookSignature;
import dev.conveyor.testkit.kafka.KafkaBrokerResource;
import dev.conveyor.testkit.kube.InjectKubernetesApi;
import dev.conveyor.testkit.kube.KubernetesApiResource;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * The application wired as a replica ({@code conveyor.flux-sync.replicas.enabled=true}): it takes the Leases of its
 * repositories under its configured identity, and once another holder has taken one, a webhook for that repository
 * is handed over (a {@code flux-sync-handoff-<repo>-sync} ConfigMap) instead of synced here.
 */
@QuarkusTest
@TestProfile(ReplicaWiringIT.Profile.class)
@QuarkusTestResource(KafkaBrokerResource.class)
@QuarkusTestResource(KubernetesApiResource.class)
class ReplicaWiringIT {

    static final String SECRET = "wiring-s3cret";

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("conveyor.flux-sync.repos.wired.url", "file:///nonexistent/wired.git",
                    "conveyor.flux-sync.repos.wired.webhook-secret", SECRET,
                    "conveyor.flux-sync.repos.wired-b.url", "file:///nonexistent/wired-b.git",
                    "conveyor.flux-sync.repos.wired-b.webhook-secret", SECRET,
                    "conveyor.flux-sync.replicas.enabled", "true",
                    "conveyor.flux-sync.replicas.identity", "wiring-1",
                    "conveyor.flux-sync.replicas.lease-duration", "5s",
                    "conveyor.flux-sync.replicas.renew-period", "500ms",
                    "conveyor.flux-sync.replicas.handoff-poll", "200ms");
        }
    }

    @InjectKubernetesApi
    KubernetesApiStandIn kube;

    @TestHTTPResource("/")
    URL http;

    Lease lease(String repo) {
        return kube.client().leases().inNamespace("conveyor").withName("flux-sync-repo-" + repo).get();
    }

    @Test
    void theReplicaTakesItsLeasesAndHandsAWebhookForARepositoryItLostToTheOwner() throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(() -> lease("wired") != null && lease("wired-b") != null
                && "wiring-1".equals(lease("wired").getSpec().getHolderIdentity()) && "wiring-1".equals(lease(
                        "wired-b").getSpec().getHolderIdentity()));
        assertThat(kube.client().leases().inNamespace("conveyor").withName("flux-sync-member-wiring-1").get())
                .isNotNull();

        // another replica takes wired-b (for an hour): this one loses it at its next renewal and does not retake it
        Lease current = lease("wired-b");
        kube.client().leases().inNamespace("conveyor").resource(new LeaseBuilder(current).editSpec()
                .withHolderIdentity("other").withLeaseDurationSeconds(3600).endSpec().build()).update();

        byte[] body = "{\"ref\":\"refs/heads/main\"}".getBytes(StandardCharsets.UTF_8);
        HttpClient client = HttpClient.newHttpClient();
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(hook("wired-b")).header(
                    "X-Hub-Signature-256", WebhookSignature.sign(SECRET, body)).POST(
                            HttpRequest.BodyPublishers
                                    .ofByteArray(body))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(202);
            return kube.client().configMaps().inNamespace("conveyor").withName("flux-sync-handoff-wired-b-sync")
                    .get() != null;
        });
        assertThat(kube.client().configMaps().inNamespace("conveyor").withName("flux-sync-handoff-wired-b-sync")
                .get().getMetadata().getLabels()).containsEntry(Handoffs.LABEL, "wired-b");
        assertThat(lease("wired-b").getSpec().getHolderIdentity()).isEqualTo("other");

        // a webhook for the repository it owns is queued here: nothing handed over
        HttpResponse<String> own = client.send(HttpRequest.newBuilder(hook("wired")).header("X-Hub-Signature-256",
                WebhookSignature.sign(SECRET, body)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(own.statusCode()).isEqualTo(202);
        assertThat(kube.client().configMaps().inNamespace("conveyor").withName("flux-sync-handoff-wired-sync").get())
                .isNull();
        assertThat(lease("wired").getSpec().getHolderIdentity()).isEqualTo("wiring-1");
    }

    URI hook(String repo) throws Exception {
        return http.toURI().resolve("hooks/git/" + repo);
    }
}
