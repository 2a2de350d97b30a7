package dev.conveyor.fluxsync.domain;

/** The release objects Conveyor understands. */
public enum ReleaseKind {
    /** The seed's {@code helm.integrations.flux.weave.works/v1alpha2 FluxHelmRelease}. */
    FLUX_HELM_RELEASE("helm.integrations.flux.weave.works", "FluxHelmRelease"),
    /** Helm Operator's {@code helm.fluxcd.io/v1 HelmRelease}. */
    HELM_OPERATOR("helm.fluxcd.io", "HelmRelease"),
    /**
     * Helm Operator's older {@code flux.weave.works/v1beta1 HelmRelease} (Flux v1 with helm-operator 0.x): read with
     * the same fields as {@link #HELM_OPERATOR} ({@code chart.git/ref/path}, {@code chart.repository/name/version}),
     * plus {@code valueFileSecrets}.
     */
    HELM_OPERATOR_V1BETA1("flux.weave.works", "HelmRelease"),
    /** Flux v2's {@code helm.toolkit.fluxcd.io/v2 HelmRelease} (v2beta1 and v2beta2 read the same). */
    FLUX2("helm.toolkit.fluxcd.io", "HelmRelease");

    private final String group;
    private final String kind;

    ReleaseKind(String group, String kind) {
        this.group = group;
        this.kind = kind;
    }

    /** The release kind of an object, if it is one. */
    public static java.util.Optional<ReleaseKind> of(ObjectRef ref) {
        for (ReleaseKind k : values()) {
            if (k.group.equals(ref.group()) && k.kind.equals(ref.kind())) {
                return java.util.Optional.of(k);
            }
        }
        return java.util.Optional.empty();
    }

    public String group() {
        return group;
    }

    public String kind() {
        return kind;
    }
}
