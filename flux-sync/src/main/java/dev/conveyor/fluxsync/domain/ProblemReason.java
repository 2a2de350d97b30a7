package dev.conveyor.fluxsync.domain;

/**
 * flux-sync's one reason vocabulary: why a file, object or release was not synced, and how a release's rollout ended.
 * Each constant carries the value it has in a release's conditions, in Kubernetes events, in log lines and in
 * {@code ReleaseDegraded} ({@link #condition()}, CamelCase as Kubernetes reasons are), and whether a retry can fix it
 * ({@link #stalls()}: a release failed for such a reason is {@code Stalled} until git changes it).
 */
public enum ProblemReason {
    /** The file is not valid YAML, or holds a document that is not a Kubernetes object. */
    INVALID_FILE("InvalidFile", true),
    /** A required field of an object or a release is missing or has the wrong type. */
    INVALID_OBJECT("InvalidObject", true),
    /** The same object is declared twice. */
    DUPLICATE_OBJECT("DuplicateObject", true),
    /** A chart path leaves the repository (or the charts directory). */
    CHART_PATH_ESCAPES("ChartPathEscapes", true),
    /** The chart is not where the release says. */
    CHART_NOT_FOUND("ChartNotFound", true),
    /**
     * A chart source referenced by a release is not declared, or does not hold the chart, version or ref, or refuses
     * it for good (HTTP 4xx, TLS): a retry cannot fix it.
     */
    CHART_SOURCE_INVALID("ChartSourceInvalid", true),
    /**
     * The Helm repository, OCI registry or git repository of a release's chart is unavailable for a reason a retry can
     * fix (host not found, connection refused, a timeout, HTTP 5xx or 429: {@code RenderException.retriable()}):
     * retried on every sync, never {@code Stalled}.
     */
    CHART_SOURCE_UNREACHABLE("ChartSourceUnreachable", false),
    /**
     * The Helm repository or OCI registry of a release's chart refused its credentials (or asked for credentials and
     * none are configured). The credentials are never quoted. Retried: a credentials Secret can be fixed in place.
     */
    CHART_REPO_AUTH_DENIED("ChartRepoAuthDenied", false),
    /**
     * A chart source named in the repository (a Helm repository or its {@code index.yaml} entries, an OCI registry, a
     * chart's git repository, or a redirect one of them answered) is refused by the installation's outbound policy
     * ({@code conveyor.outbound.*}): nothing was dialled; the repository (or the policy) must change.
     */
    OUTBOUND_REFUSED("OutboundRefused", true),
    /** Helm could not render the chart with the values. */
    RENDER_FAILED("RenderFailed", true),
    /** A Secret or ConfigMap with values is missing or does not hold valid YAML (retried: it can be fixed in place). */
    VALUES_INVALID("ValuesInvalid", false),
    /** A release depends on a release that does not exist, failed, or on itself through a cycle. */
    DEPENDENCY_NOT_READY("DependencyNotReady", false),
    /** The API server does not serve the object's kind (a CRD not installed yet: retried). */
    UNKNOWN_KIND("UnknownKind", false),
    /**
     * A rendered object uses a built-in API version Kubernetes removed (e.g. {@code apps/v1beta2}): nothing of the
     * release is applied, and the message names the version that replaces it.
     */
    REMOVED_API("RemovedApi", true),
    /** The API server refused the object, or the live objects of its kind could not be listed to compare it. */
    APPLY_FAILED("ApplyFailed", false),
    /**
     * A SOPS-encrypted file cannot be decrypted: no configured age identity opens it, a value or the MAC does not
     * verify (the file was tampered with), or it uses a SOPS feature that is not supported.
     */
    DECRYPTION_FAILED("DecryptionFailed", true),

    /** The release's objects are up to date and its workloads are ready. */
    SUCCEEDED("ReconciliationSucceeded", false),
    /** Objects applied; the rollout is being waited for. */
    PROGRESSING("Progressing", false),
    /** The release is suspended ({@code spec.suspend}). */
    SUSPENDED("Suspended", false),
    /** The workloads did not roll out before the health timeout. */
    ROLLOUT_TIMEOUT("RolloutTimeout", false),
    /** A workload's rollout failed ({@code ProgressDeadlineExceeded}). */
    ROLLOUT_FAILED("RolloutFailed", false),
    /**
     * The upgrade did not roll out and the previous revision was put back; that version is not applied again until
     * git changes it.
     */
    ROLLED_BACK("RolledBack", true),
    /** The rollout wait itself failed. */
    HEALTH_CHECK_FAILED("HealthCheckFailed", false),
    /** The rollout wait was interrupted (the process stops). */
    INTERRUPTED("Interrupted", false),
    /** The release a promoted run names is not in the repository. */
    RELEASE_NOT_FOUND("ReleaseNotFound", false);

    private final String condition;
    private final boolean stalls;

    ProblemReason(String condition, boolean stalls) {
        this.condition = condition;
        this.stalls = stalls;
    }

    /** The value in conditions, events, logs and {@code ReleaseDegraded}. */
    public String condition() {
        return condition;
    }

    /** Whether only a change in git (or in flux-sync's configuration) fixes a failure for this reason. */
    public boolean stalls() {
        return stalls;
    }

    /** The constant whose {@link #condition()} or name is {@code value}, if any. */
    public static java.util.Optional<ProblemReason> of(String value) {
        for (ProblemReason r : values()) {
            if (r.condition.equals(value) || r.name().equals(value)) {
                return java.util.Optional.of(r);
            }
        }
        return java.util.Optional.empty();
    }
}
