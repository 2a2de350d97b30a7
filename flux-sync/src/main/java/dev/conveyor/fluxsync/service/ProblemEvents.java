package dev.conveyor.fluxsync.service;

import java.util.List;

import org.jboss.logging.Logger;

import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.domain.LiveComparison;
import dev.conveyor.fluxsync.domain.SyncProblem;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * Kubernetes {@code Event}s for what could not be synced ({@code kubectl get events -n <inventory namespace>}): one
 * per problem and revision, named after a hash of both so a resync does not repeat it.
 */
final class ProblemEvents {

    private static final Logger LOG = Logger.getLogger(ProblemEvents.class);

    private ProblemEvents() {
    }

    static void record(KubeCluster cluster, String namespace, String repo, String revision,
            List<SyncProblem> problems) {
        for (SyncProblem p : problems) {
            String name = "flux-sync-" + repo + "." + LiveComparison.hash(java.util.Map.of("r", revision, "o", p
                    .owner(), "m", p.message())).substring(0, 16);
            Event event = new EventBuilder().withNewMetadata().withName(name).withNamespace(namespace)
                    .addToLabels(KubeCluster.REPO_LABEL, repo).endMetadata()
                    .withType("Warning").withReason(p.reason().condition()).withMessage(p.message())
                    .withNewInvolvedObject().withKind("ConfigMap").withNamespace(namespace)
                    .withName("flux-sync-inventory-" + repo).endInvolvedObject()
                    .withNewSource().withComponent(KubeCluster.MANAGED_BY).endSource()
                    .withReportingComponent(KubeCluster.MANAGED_BY).build();
            try {
                if (cluster.client().v1().events().inNamespace(namespace).withName(name).get() == null) {
                    cluster.client().v1().events().inNamespace(namespace).resource(event).create();
                }
            } catch (KubernetesClientException e) {
                LOG.debugf("cannot record event %s: %s", name, e.getMessage());
            }
        }
    }
}
