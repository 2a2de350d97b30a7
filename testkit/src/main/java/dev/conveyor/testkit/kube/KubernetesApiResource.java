package dev.conveyor.testkit.kube;

import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Quarkus test resource that runs a {@link KubernetesApiStandIn} and points the Quarkus Kubernetes client at it:
 * <ul>
 * <li>{@code quarkus.kubernetes-client.api-server-url}: the stand-in's URL</li>
 * <li>{@code quarkus.kubernetes-client.trust-certs}: {@code true}</li>
 * <li>{@code quarkus.kubernetes-client.namespace}: {@code default}</li>
 * <li>{@code conveyor.testkit.kubernetes.url}: the stand-in's URL</li>
 * </ul>
 * Fields of type {@link KubernetesApiStandIn} annotated with {@link InjectKubernetesApi} receive the running stand-in.
 * See {@link KubernetesApiStandIn} for what the stand-in does not do.
 */
public class KubernetesApiResource implements QuarkusTestResourceLifecycleManager {

    private KubernetesApiStandIn standIn;

    /** Starts the stand-in with the release CRDs registered. */
    @Override
    public Map<String, String> start() {
        standIn = KubernetesApiStandIn.start();
        return Map.of("quarkus.kubernetes-client.api-server-url", standIn.url(),
                "quarkus.kubernetes-client.trust-certs", "true", "quarkus.kubernetes-client.namespace", "default",
                "conveyor.testkit.kubernetes.url", standIn.url());
    }

    /** Sets {@link InjectKubernetesApi} fields of the test instance. */
    @Override
    public void inject(TestInjector testInjector) {
        testInjector.injectIntoFields(standIn,
                new TestInjector.AnnotatedAndMatchesType(InjectKubernetesApi.class, KubernetesApiStandIn.class));
    }

    /** Stops the stand-in. */
    @Override
    public void stop() {
        if (standIn != null) {
            standIn.close();
            standIn = null;
        }
    }
}
