package dev.conveyor.fluxsync.domain;

/** Where a release's chart comes from. */
public sealed interface ChartSource {

    /** A chart directory inside the GitOps repository (relative to the repository root, already checked). */
    record GitPath(String path) implements ChartSource {
    }

    /** A chart from a classic Helm repository ({@code index.yaml}). */
    record HelmRepository(String url, String chart, String version) implements ChartSource {
    }

    /**
     * A chart from an OCI registry: {@code oci://host/path/chart}; {@code plainHttp} for a registry without TLS (Flux
     * v2 {@code HelmRepository} {@code spec.insecure: true}).
     */
    record Oci(String reference, String version, boolean plainHttp) implements ChartSource {
        public Oci(String reference, String version) {
            this(reference, version, false);
        }

        /** {@code host[:port]} of the reference. */
        public String host() {
            String rest = reference.startsWith("oci://") ? reference.substring(6) : reference;
            int slash = rest.indexOf('/');
            return slash < 0 ? rest : rest.substring(0, slash);
        }
    }
}
