package dev.conveyor.promoter.domain;

import java.util.Arrays;
import java.util.Optional;

/** The release objects the promoter writes and updates in a GitOps repository. */
public enum ReleaseKind {
    /** The seed's Flux (v1) Helm Operator object: chart from {@code charts/<spec.chartGitPath>}. */
    FLUX_HELM_RELEASE("helm.integrations.flux.weave.works/v1alpha2", "FluxHelmRelease"),
    /** Helm Operator's {@code HelmRelease}: chart from git ({@code spec.chart.path}) or a repository. */
    HELM_OPERATOR("helm.fluxcd.io/v1", "HelmRelease"),
    /** Flux v2's {@code HelmRelease}: {@code spec.chart.spec.version} and {@code spec.values}. */
    FLUX_V2("helm.toolkit.fluxcd.io/v2", "HelmRelease");

    private final String apiVersion;
    private final String kind;

    ReleaseKind(String apiVersion, String kind) {
        this.apiVersion = apiVersion;
        this.kind = kind;
    }

    public String apiVersion() {
        return apiVersion;
    }

    public String kind() {
        return kind;
    }

    /** The kind of an object by its apiVersion and kind. */
    public static Optional<ReleaseKind> of(String apiVersion, String kind) {
        return Arrays.stream(values()).filter(k -> k.apiVersion.equals(apiVersion) && k.kind.equals(kind))
                .findFirst();
    }
}
