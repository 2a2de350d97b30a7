package dev.conveyor.manifests.service;

/** Reason codes of the manifest renderer's {@code StageFailed} events (besides the git ones in {@code GitFailure}). */
public enum RendererFailure {
    /** The commit is not in the repository. Terminal. */
    UNKNOWN_COMMIT,
    /** {@code .conveyor.yaml} is invalid; the details name the field. Terminal. */
    INVALID_CONFIG,
    /** A configured path (chart, values overlay, CRD directory) leaves the repository. Terminal. */
    CHART_PATH_ESCAPES,
    /** No {@code Chart.yaml} at the chart path. Terminal. */
    CHART_NOT_FOUND,
    /** The chart holds something unsafe to copy out: a symbolic link, too many or too large files. Terminal. */
    UNSAFE_CHART,
    /** {@code helm lint --strict} failed; the details list its messages. Terminal. */
    LINT_FAILED,
    /** Helm could not render the chart (template error, bad Chart.yaml, missing dependency). Terminal. */
    TEMPLATE_ERROR,
    /** The rendered output is larger than the byte cap. Terminal. */
    OUTPUT_TOO_LARGE,
    /** The rendered output expands aliases beyond the limits (a "billion laughs" document). Terminal. */
    YAML_ALIAS_BOMB,
    /** Helm did not finish within the render timeout (a template that loops). Terminal. */
    RENDER_TIMEOUT,
    /** Rendered objects failed validation; the message and details list every problem (capped). Terminal. */
    INVALID_MANIFESTS,
    /** The branch to commit the manifests to does not exist. Terminal. */
    BRANCH_NOT_FOUND,
    /** The remote refused the manifests commit for a reason other than a race. Terminal. */
    MANIFESTS_PUSH_DENIED,
    /** Others kept pushing to the branch first; retried, then reported retryable. */
    MANIFESTS_PUSH_RACE
}
