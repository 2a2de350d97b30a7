package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The message of a kind the server does not serve. */
class RemovedApisTest {

    @Test
    void aRemovedBuiltInApiNamesItsReplacementAndNoCrd() {
        assertThat(RemovedApis.notServed("apps/v1beta2", "Deployment")).isEqualTo(
                "the API server does not serve Deployment of apps/v1beta2: a removed built-in API, replaced by apps/v1"
                        + " (removed in Kubernetes 1.16)");
        assertThat(RemovedApis.notServed("extensions/v1beta1", "Ingress")).contains("replaced by networking.k8s.io/v1");
        assertThat(RemovedApis.notServed("extensions/v1beta1", "Deployment")).contains("replaced by apps/v1");
        assertThat(RemovedApis.notServed("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding")).contains(
                "replaced by rbac.authorization.k8s.io/v1");
        assertThat(RemovedApis.notServed("policy/v1beta1", "PodDisruptionBudget")).contains("replaced by policy/v1");
        assertThat(RemovedApis.notServed("batch/v1beta1", "CronJob")).contains("replaced by batch/v1");
        assertThat(RemovedApis.notServed("autoscaling/v2beta2", "HorizontalPodAutoscaler")).contains(
                "replaced by autoscaling/v2");
        assertThat(RemovedApis.notServed("policy/v1beta1", "PodSecurityPolicy")).contains("Pod Security Admission");
        for (String m : new String[]{RemovedApis.notServed("apps/v1beta2", "Deployment"), RemovedApis.notServed(
                "apps/v2", "Deployment"), RemovedApis.notServed("v2", "ConfigMap")}) {
            assertThat(m).doesNotContain("CRD");
        }
        assertThat(RemovedApis.notServed("apps/v2", "Deployment")).contains("a built-in API version");
    }

    @Test
    void aKindOfAnotherGroupAsksForItsCrd() {
        assertThat(RemovedApis.builtIn("monitoring.coreos.com/v1")).isFalse();
        assertThat(RemovedApis.notServed("monitoring.coreos.com/v1", "ServiceMonitor")).isEqualTo(
                "the API server does not serve ServiceMonitor of monitoring.coreos.com/v1 (is its CRD installed?)");
    }

    @Test
    void anUnservedHelmOperatorV1beta1ReleaseNamesTheMigration() {
        assertThat(RemovedApis.notServed("flux.weave.works/v1beta1", "HelmRelease")).contains(
                "is its CRD installed?").contains("migrate the release to helm.fluxcd.io/v1");
        assertThat(RemovedApis.notServed("example.com/v1", "Widget")).endsWith("(is its CRD installed?)")
                .doesNotContain("migrate");
    }
}
