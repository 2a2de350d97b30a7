package dev.conveyor.fluxsync.domain;

/** Why one file, object or release of a repository was not synced; the codes of conditions and Kubernetes events. */
public enum ProblemReason {
    /** The file is not valid YAML, or holds a document that is not a Kubernetes object. */
    INVALID_FILE,
    /** A required field of an object or a release is missing or has the wrong type. */
    INVALID_OBJECT,
    /** The same object is declared twice. */
    DUPLICATE_OBJECT,
    /** A chart path leaves the repository (or the charts directory). */
    CHART_PATH_ESCAPES,
    /** The chart is not where the release says. */
    CHART_NOT_FOUND,
    /** A chart source (HelmRepository, OCI) referenced by a release is not declared or not reachable. */
    CHART_SOURCE_INVALID,
    /**
     * The Helm repository or OCI registry of a release's chart refused its credentials (or asked for credentials and
     * none are configured). The credentials are never quoted.
     */
    CHART_REPO_AUTH_DENIED,
    /** Helm could not render the chart with the values. */
    RENDER_FAILED,
    /** A Secret or ConfigMap with values is missing or does not hold valid YAML. */
    VALUES_INVALID,
    /** A release depends on a release that does not exist, failed, or on itself through a cycle. */
    DEPENDENCY_NOT_READY,
    /** The API server does not know the object's kind. */
    UNKNOWN_KIND,
    /** The API server refused the object. */
    APPLY_FAILED,
    /**
     * A SOPS-encrypted file cannot be decrypted: no configured age identity opens it, a value or the MAC does not
     * verify (the file was tampered with), or it uses a SOPS feature that is not supported.
     */
    DECRYPTION_FAILED
}
