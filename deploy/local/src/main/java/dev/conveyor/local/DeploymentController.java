package dev.conveyor.local;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * The one controller the local stack adds to the API stand-in, which has none: like the Deployment and StatefulSet
 * controllers of a cluster whose pods always start, it reports every Deployment and StatefulSet as rolled out (status
 * replicas, updated, ready and available equal to {@code spec.replicas}, {@code observedGeneration} caught up), so
 * flux-sync's rollout wait sees what a healthy cluster would show. It runs only against the stand-in.
 */
final class DeploymentController implements AutoCloseable {

    private final KubernetesClient client;
    private final ScheduledExecutorService loop;

    private DeploymentController(KubernetesClient client) {
        this.client = client;
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "deployment-controller");
            t.setDaemon(true);
            return t;
        });
    }

    static DeploymentController start(KubernetesClient client) {
        DeploymentController controller = new DeploymentController(client);
        controller.loop.scheduleWithFixedDelay(controller::reconcile, 0, 250, TimeUnit.MILLISECONDS);
        return controller;
    }

    private void reconcile() {
        try {
            for (Deployment d : client.apps().deployments().inAnyNamespace().list().getItems()) {
                int replicas = d.getSpec() == null || d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
                Long generation = d.getMetadata().getGeneration();
                var s = d.getStatus();
                if (s != null && eq(s.getUpdatedReplicas(), replicas) && eq(s.getAvailableReplicas(), replicas)
                        && eq(s.getReplicas(), replicas) && (generation == null || generation.equals(
                                s.getObservedGeneration()))) {
                    continue;
                }
                d.setStatus(new DeploymentStatusBuilder().withReplicas(replicas).withUpdatedReplicas(replicas)
                        .withReadyReplicas(replicas).withAvailableReplicas(replicas).withObservedGeneration(generation)
                        .build());
                client.apps().deployments().inNamespace(d.getMetadata().getNamespace()).resource(d).updateStatus();
            }
            for (StatefulSet st : client.apps().statefulSets().inAnyNamespace().list().getItems()) {
                int replicas = st.getSpec() == null || st.getSpec().getReplicas() == null
                        ? 1
                        : st.getSpec().getReplicas();
                var s = st.getStatus();
                if (s != null && eq(s.getReadyReplicas(), replicas) && eq(s.getUpdatedReplicas(), replicas)) {
                    continue;
                }
                st.setStatus(new StatefulSetStatusBuilder().withReplicas(replicas).withReadyReplicas(replicas)
                        .withUpdatedReplicas(replicas).withCurrentReplicas(replicas)
                        .withObservedGeneration(st.getMetadata().getGeneration()).build());
                client.apps().statefulSets().inNamespace(st.getMetadata().getNamespace()).resource(st)
                        .updateStatus();
            }
        } catch (KubernetesClientException e) {
            // A conflict with flux-sync's own write, or an object deleted meanwhile: the next round retries.
        } catch (RuntimeException e) {
            StackHost.log("deployment controller: %s", e.getMessage());
        }
    }

    private static boolean eq(Integer value, int expected) {
        return value != null && value == expected;
    }

    @Override
    public void close() {
        loop.shutdownNow();
        client.close();
    }
}
