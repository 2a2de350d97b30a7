package dev.conveyor.fluxsync.service;

import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Built-in Kubernetes API versions that were removed, with the version that replaces each: the message of an object
 * the server does not serve names the replacement, and never asks whether a CRD is installed for a built-in group.
 */
final class RemovedApis {

    private RemovedApis() {
    }

    /** The groups Kubernetes itself serves ({@code ""} is the core group). */
    static final Set<String> BUILT_IN_GROUPS = Set.of("", "apps", "extensions", "rbac.authorization.k8s.io", "policy",
            "batch", "networking.k8s.io", "autoscaling", "storage.k8s.io", "scheduling.k8s.io", "coordination.k8s.io",
            "certificates.k8s.io", "discovery.k8s.io", "events.k8s.io", "flowcontrol.apiserver.k8s.io", "node.k8s.io",
            "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "authentication.k8s.io",
            "authorization.k8s.io", "resource.k8s.io", "storagemigration.k8s.io", "internal.apiserver.k8s.io");

    /** {@code apiVersion kind} → replacement apiVersion and the Kubernetes release that removed it. */
    private static final Map<String, String> REPLACED = Map.ofEntries(
            Map.entry("extensions/v1beta1 Deployment", "apps/v1 (removed in Kubernetes 1.16)"),
            Map.entry("extensions/v1beta1 DaemonSet", "apps/v1 (removed in Kubernetes 1.16)"),
            Map.entry("extensions/v1beta1 ReplicaSet", "apps/v1 (removed in Kubernetes 1.16)"),
            Map.entry("extensions/v1beta1 NetworkPolicy", "networking.k8s.io/v1 (removed in Kubernetes 1.16)"),
            Map.entry("extensions/v1beta1 Ingress", "networking.k8s.io/v1 (removed in Kubernetes 1.22)"),
            Map.entry("extensions/v1beta1 PodSecurityPolicy",
                    "nothing: PodSecurityPolicy was removed in Kubernetes 1.25 (use Pod Security Admission)"),
            Map.entry("apps/v1beta1 Deployment", "apps/v1 (removed in Kubernetes 1.16)"),
            Map.entry("apps/v1beta1 StatefulSet", "apps/v1 (removed in Kubernetes 1.16)"),
            Map.entry("apps/v1beta1 ControllerRevision", "apps/v1 (removed in Kubernetes 1.16)"),
            Map.entry("apps/v1beta2 Deployment", "apps/v1 (removed in Kubernetes 1.16)"),
            Map.entry("apps/v1beta2 StatefulSet", "apps/v1 (removed in Kubernetes 1.16)"),
            Map.entry("apps/v1beta2 DaemonSet", "apps/v1 (removed in Kubernetes 1.16)"),
            Map.entry("apps/v1beta2 ReplicaSet", "apps/v1 (removed in Kubernetes 1.16)"),
            Map.entry("apps/v1beta2 ControllerRevision", "apps/v1 (removed in Kubernetes 1.16)"),
            Map.entry("rbac.authorization.k8s.io/v1beta1 Role",
                    "rbac.authorization.k8s.io/v1 (removed in Kubernetes 1.22)"),
            Map.entry("rbac.authorization.k8s.io/v1beta1 ClusterRole",
                    "rbac.authorization.k8s.io/v1 (removed in Kubernetes 1.22)"),
            Map.entry("rbac.authorization.k8s.io/v1beta1 RoleBinding",
                    "rbac.authorization.k8s.io/v1 (removed in Kubernetes 1.22)"),
            Map.entry("rbac.authorization.k8s.io/v1beta1 ClusterRoleBinding",
                    "rbac.authorization.k8s.io/v1 (removed in Kubernetes 1.22)"),
            Map.entry("rbac.authorization.k8s.io/v1alpha1 Role",
                    "rbac.authorization.k8s.io/v1 (removed in Kubernetes 1.22)"),
            Map.entry("rbac.authorization.k8s.io/v1alpha1 ClusterRole",
                    "rbac.authorization.k8s.io/v1 (removed in Kubernetes 1.22)"),
            Map.entry("rbac.authorization.k8s.io/v1alpha1 RoleBinding",
                    "rbac.authorization.k8s.io/v1 (removed in Kubernetes 1.22)"),
            Map.entry("rbac.authorization.k8s.io/v1alpha1 ClusterRoleBinding",
                    "rbac.authorization.k8s.io/v1 (removed in Kubernetes 1.22)"),
            Map.entry("policy/v1beta1 PodDisruptionBudget", "policy/v1 (removed in Kubernetes 1.25)"),
            Map.entry("policy/v1beta1 PodSecurityPolicy",
                    "nothing: PodSecurityPolicy was removed in Kubernetes 1.25 (use Pod Security Admission)"),
            Map.entry("batch/v1beta1 CronJob", "batch/v1 (removed in Kubernetes 1.25)"),
            Map.entry("batch/v2alpha1 CronJob", "batch/v1"),
            Map.entry("networking.k8s.io/v1beta1 Ingress", "networking.k8s.io/v1 (removed in Kubernetes 1.22)"),
            Map.entry("networking.k8s.io/v1beta1 IngressClass", "networking.k8s.io/v1 (removed in Kubernetes 1.22)"),
            Map.entry("autoscaling/v2beta1 HorizontalPodAutoscaler", "autoscaling/v2 (removed in Kubernetes 1.25)"),
            Map.entry("autoscaling/v2beta2 HorizontalPodAutoscaler", "autoscaling/v2 (removed in Kubernetes 1.26)"),
            Map.entry("apiextensions.k8s.io/v1beta1 CustomResourceDefinition",
                    "apiextensions.k8s.io/v1 (removed in Kubernetes 1.22)"),
            Map.entry("admissionregistration.k8s.io/v1beta1 MutatingWebhookConfiguration",
                    "admissionregistration.k8s.io/v1 (removed in Kubernetes 1.22)"),
            Map.entry("admissionregistration.k8s.io/v1beta1 ValidatingWebhookConfiguration",
                    "admissionregistration.k8s.io/v1 (removed in Kubernetes 1.22)"),
            Map.entry("apiregistration.k8s.io/v1beta1 APIService",
                    "apiregistration.k8s.io/v1 (removed in Kubernetes 1.22)"),
            Map.entry("certificates.k8s.io/v1beta1 CertificateSigningRequest",
                    "certificates.k8s.io/v1 (removed in Kubernetes 1.22)"),
            Map.entry("coordination.k8s.io/v1beta1 Lease", "coordination.k8s.io/v1 (removed in Kubernetes 1.22)"),
            Map.entry("scheduling.k8s.io/v1beta1 PriorityClass", "scheduling.k8s.io/v1 (removed in Kubernetes 1.22)"),
            Map.entry("scheduling.k8s.io/v1alpha1 PriorityClass",
                    "scheduling.k8s.io/v1 (removed in Kubernetes 1.17)"),
            Map.entry("storage.k8s.io/v1beta1 StorageClass", "storage.k8s.io/v1 (removed in Kubernetes 1.22)"),
            Map.entry("storage.k8s.io/v1beta1 VolumeAttachment", "storage.k8s.io/v1 (removed in Kubernetes 1.22)"),
            Map.entry("storage.k8s.io/v1beta1 CSIDriver", "storage.k8s.io/v1 (removed in Kubernetes 1.22)"),
            Map.entry("storage.k8s.io/v1beta1 CSINode", "storage.k8s.io/v1 (removed in Kubernetes 1.22)"),
            Map.entry("storage.k8s.io/v1beta1 CSIStorageCapacity", "storage.k8s.io/v1 (removed in Kubernetes 1.27)"),
            Map.entry("discovery.k8s.io/v1beta1 EndpointSlice", "discovery.k8s.io/v1 (removed in Kubernetes 1.25)"),
            Map.entry("events.k8s.io/v1beta1 Event", "events.k8s.io/v1 (removed in Kubernetes 1.25)"),
            Map.entry("node.k8s.io/v1beta1 RuntimeClass", "node.k8s.io/v1 (removed in Kubernetes 1.25)"),
            Map.entry("flowcontrol.apiserver.k8s.io/v1beta1 FlowSchema",
                    "flowcontrol.apiserver.k8s.io/v1 (removed in Kubernetes 1.26)"),
            Map.entry("flowcontrol.apiserver.k8s.io/v1beta1 PriorityLevelConfiguration",
                    "flowcontrol.apiserver.k8s.io/v1 (removed in Kubernetes 1.26)"),
            Map.entry("flowcontrol.apiserver.k8s.io/v1beta2 FlowSchema",
                    "flowcontrol.apiserver.k8s.io/v1 (removed in Kubernetes 1.29)"),
            Map.entry("flowcontrol.apiserver.k8s.io/v1beta2 PriorityLevelConfiguration",
                    "flowcontrol.apiserver.k8s.io/v1 (removed in Kubernetes 1.29)"),
            Map.entry("flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema",
                    "flowcontrol.apiserver.k8s.io/v1 (removed in Kubernetes 1.32)"),
            Map.entry("flowcontrol.apiserver.k8s.io/v1beta3 PriorityLevelConfiguration",
                    "flowcontrol.apiserver.k8s.io/v1 (removed in Kubernetes 1.32)"));

    static String group(String apiVersion) {
        int slash = apiVersion.indexOf('/');
        return slash < 0 ? "" : apiVersion.substring(0, slash);
    }

    /** Whether the apiVersion belongs to a group Kubernetes serves itself (no CRD involved). */
    static boolean builtIn(String apiVersion) {
        return BUILT_IN_GROUPS.contains(group(apiVersion));
    }

    /** What replaces a removed built-in API, if it is one. */
    static Optional<String> replacement(String apiVersion, String kind) {
        return Optional.ofNullable(REPLACED.get(apiVersion + " " + kind));
    }

    /** Why the server does not serve {@code kind} of {@code apiVersion}, for people. */
    static String notServed(String apiVersion, String kind) {
        String base = "the API server does not serve " + kind + " of " + apiVersion;
        Optional<String> replacement = replacement(apiVersion, kind);
        if (replacement.isPresent()) {
            return base + ": a removed built-in API, replaced by " + replacement.get();
        }
        if (builtIn(apiVersion)) {
            return base + ": a built-in API version this cluster does not serve (removed or not enabled)";
        }
        if (apiVersion.startsWith("flux.weave.works/") && kind.equals("HelmRelease")) {
            // Helm Operator 0.x's kind: the chart installs its CRD, but helm upgrade never adds a CRD
            return base + " (is its CRD installed? Or migrate the release to helm.fluxcd.io/v1: change only its "
                    + "apiVersion)";
        }
        return base + " (is its CRD installed?)";
    }
}
