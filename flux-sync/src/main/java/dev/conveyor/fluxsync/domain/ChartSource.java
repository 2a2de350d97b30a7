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
     * A chart directory in another git repository (Helm Operator {@code spec.chart.git}, a Flux v2
     * {@code GitRepository} other than the synced one): cloned, {@code ref} resolved to a commit at each sync.
     *
     * @param url the remote ({@code ssh://}, {@code git@host:path}, {@code https://}, {@code file://})
     * @param ref a branch, a tag, or a commit id ({@code master} when the release names none, as Helm Operator)
     * @param path the chart directory in that repository (already checked not to climb out of it); empty for the root
     * @param field the release field that named the repository, for messages ({@code spec.chart.git})
     */
    record Git(String url, String ref, String path, String field) implements ChartSource {
        /** The default ref of Helm Operator's {@code spec.chart.ref} and of Flux v2's {@code GitRepository}. */
        public static final String DEFAULT_REF = "master";
    }

    /**
     * A chart from a classic Helm repository ({@code index.yaml}). {@code version} is an exact version, {@code *}, or a
     * semver range ({@code >=1.2.0 <2}, {@code 1.x}, {@code ~1.2}, {@code ^1.2}), resolved against the index.
     *
     * @param secretRef its credentials, or null (then the configuration per host applies, if any)
     * @param field the release or source field that named the repository, for messages and outbound refusals
     *     ({@code spec.chart.repository}, {@code HelmRepository apps/local spec.url})
     */
    record HelmRepository(String url, String chart, String version, SecretRef secretRef, String field)
            implements
                ChartSource {
        /** The field of Helm Operator's {@code spec.chart.repository}, the default. */
        public static final String OPERATOR_FIELD = "spec.chart.repository";

        public HelmRepository(String url, String chart, String version) {
            this(url, chart, version, null, OPERATOR_FIELD);
        }

        public HelmRepository(String url, String chart, String version, SecretRef secretRef) {
            this(url, chart, version, secretRef, OPERATOR_FIELD);
        }

        /**
         * Equal whatever field named it: the same repository, chart, version and credentials are the same source
         * (the field is for messages only).
         */
        @Override
        public boolean equals(Object o) {
            return o instanceof HelmRepository h && java.util.Objects.equals(url, h.url) && java.util.Objects.equals(
                    chart, h.chart) && java.util.Objects.equals(version, h.version)
                    && java.util.Objects.equals(
                            secretRef, h.secretRef);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(url, chart, version, secretRef);
        }
    }

    /**
     * A chart from an OCI registry: {@code oci://host/path/chart}; {@code plainHttp} for a registry without TLS (Flux
     * v2 {@code HelmRepository} {@code spec.insecure: true}).
     *
     * @param secretRef its credentials, or null (then the configuration per host applies, if any)
     * @param field the release or source field that named the registry, for messages and outbound refusals
     */
    record Oci(String reference, String version, boolean plainHttp, SecretRef secretRef, String field)
            implements
                ChartSource {
        public Oci(String reference, String version) {
            this(reference, version, false, null);
        }

        public Oci(String reference, String version, boolean plainHttp) {
            this(reference, version, plainHttp, null);
        }

        public Oci(String reference, String version, boolean plainHttp, SecretRef secretRef) {
            this(reference, version, plainHttp, secretRef, HelmRepository.OPERATOR_FIELD);
        }

        /** Equal whatever field named it (the field is for messages only). */
        @Override
        public boolean equals(Object o) {
            return o instanceof Oci h && plainHttp == h.plainHttp && java.util.Objects.equals(reference, h.reference)
                    && java.util.Objects.equals(version, h.version) && java.util.Objects.equals(secretRef,
                            h.secretRef);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(reference, version, plainHttp, secretRef);
        }

        /** {@code host[:port]} of the reference. */
        public String host() {
            String rest = reference.startsWith("oci://") ? reference.substring(6) : reference;
            int slash = rest.indexOf('/');
            return slash < 0 ? rest : rest.substring(0, slash);
        }
    }
}
