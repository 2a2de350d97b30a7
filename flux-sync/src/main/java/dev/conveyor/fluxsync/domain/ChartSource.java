package dev.conveyor.fluxsync.domain;

/** Where a release's chart comes from. */
public sealed interface ChartSource {

    /** A chart directory inside the GitOps repository (relative to the repository root, already checked). */
    record GitPath(String path) implements ChartSource {
    }

    /** A chart from a classic Helm repository ({@code index.yaml}). */
    record HelmRepository(String url, String chart, String version) implements ChartSource {
    }

    /** A chart from an OCI registry: {@code oci://host/path/chart}. */
    record Oci(String reference, String version) implements ChartSource {
    }
}
