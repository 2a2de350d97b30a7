package dev.conveyor.promoter.service;

/**
 * Reason codes of the promoter's {@code StageFailed} events, besides those of the adapters ({@code CHART_INVALID},
 * {@code CHART_VERSION_CONFLICT}, {@code CHART_REPO_*}, {@code PUSH_DENIED}, {@code PUSH_RACE},
 * {@code PULL_REQUEST_*}) and git ({@code GitFailure}).
 */
public enum PromoterFailure {
    /** The commit is not in the app repository. Terminal. */
    UNKNOWN_COMMIT,
    /** {@code .conveyor.yaml} or a platform target is invalid; the details name the field. Terminal. */
    INVALID_CONFIG,
    /** A release object in the GitOps repository cannot be updated; the details name the file and field. Terminal. */
    RELEASE_INVALID
}
