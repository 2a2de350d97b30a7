package dev.conveyor.fluxsync.domain;

/** Where a release's chart comes from. */
public sealed interface ChartSource {

    /**
     * The Secret holding a chart source's credentials (Flux v2 {@code HelmRepository} {@code spec.secretRef}, in the
     * HelmRepository's namespace): keys {@code username}/{@code password}, or {@code bearerToken}.
     */
    record SecretRef(String namespace, String name) {
    }

    /** A chart directory inside the GitOps repository (relative to the repository root, already checked). */
    record GitPath(String path) implements ChartSource {
    }

    /**
     * A chart from a classic Helm repository ({@code index.yaml}).
     *
     * @param secretRef its credentials, or null (then the configuration per host applies, if any)
     */
    record HelmRepository(String url, String chart, String version, SecretRef secretRef) implements ChartSource {
        public HelmRepository(String url, String chart, String version) {
            this(url, chart, version, null);
        }
    }

    /**
     * A chart from an OCI registry: {@code oci://host/path/chart}; {@code plainHttp} for a registry without TLS (Flux
     * v2 {@code HelmRepository} {@code spec.insecure: true}).
     *
     * @param secretRef its credentials, or null (then the configuration per host applies, if any)
     */
    record Oci(String reference, String version, boolean plainHttp, SecretRef secretRef) implements ChartSource {
        public Oci(String reference, String version) {
            this(reference, version, false, null);
        }

        public Oci(String reference, String version, boolean plainHttp) {
            this(reference, version, plainHttp, null);
        }

        /** {@code host[:port]} of the reference. */
        public String host() {
            String rest = reference.startsWith("oci://") ? reference.substring(6) : reference;
            int slash = rest.indexOf('/');
            return slash < 0 ? rest : rest.substring(0, slash);
        }
    }
}
