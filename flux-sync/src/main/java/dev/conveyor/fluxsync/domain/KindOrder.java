package dev.conveyor.fluxsync.domain;

import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * The order objects are applied in: what others refer to first (namespaces, CRDs, service accounts, config, RBAC,
 * services), workloads after, the objects of unknown kinds (custom resources) last. Pruning goes the other way.
 */
public final class KindOrder {

    private static final List<String> ORDER = List.of("Namespace", "CustomResourceDefinition", "PriorityClass",
            "NetworkPolicy", "ResourceQuota", "LimitRange", "PodDisruptionBudget", "ServiceAccount", "Secret",
            "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim", "ClusterRole",
            "ClusterRoleBinding", "Role", "RoleBinding", "Service", "DaemonSet", "Pod", "ReplicaSet", "Deployment",
            "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
            "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration");

    /** Kinds that have no namespace (custom resources are namespaced unless their CRD in the repo says otherwise). */
    public static final Set<String> CLUSTER_SCOPED = Set.of("Namespace", "CustomResourceDefinition", "PriorityClass",
            "StorageClass", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "IngressClass", "APIService",
            "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "RuntimeClass", "CSIDriver",
            "VolumeAttachment", "Node");

    /** Apply order: kind rank, then namespace, then name, so a plan is the same every time. */
    public static final Comparator<Manifest> APPLY = Comparator.<Manifest>comparingInt(m -> rank(m.ref().kind()))
            .thenComparing(m -> m.ref());

    private KindOrder() {
    }

    /**
     * The kind's tier in the apply order: objects of one tier do not depend on each other's order and may be applied
     * at once; a tier is applied after every lower one.
     */
    public static int tier(String kind) {
        return rank(kind);
    }

    static int rank(String kind) {
        int i = ORDER.indexOf(kind);
        return i < 0 ? ORDER.size() : i;
    }

    /** Prune order: the reverse of the apply order (workloads before their config, namespaces last). */
    public static final Comparator<ObjectRef> PRUNE = Comparator.<ObjectRef>comparingInt(r -> -rank(r.kind()))
            .thenComparing(r -> r);
}
