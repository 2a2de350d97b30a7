package dev.conveyor.versioner.service;

/** Reason codes of the versioner's {@code StageFailed} events (besides the git ones in {@code GitFailure}). */
public enum VersionerFailure {
    /** The commit is not in the repository (not pushed, or force-pushed away). Terminal. */
    UNKNOWN_COMMIT,
    /** {@code .conveyor.yaml} is invalid; the details name the field. Terminal. */
    INVALID_CONFIG,
    /** The file strategy's version file is missing or holds no version. Terminal. */
    VERSION_FILE_INVALID,
    /** A monorepo app has no commit since its last tag. Terminal. */
    NOTHING_TO_RELEASE,
    /** The remote refused the tag for a reason other than a race (a protected tag, a hook). Terminal. */
    TAG_PUSH_DENIED,
    /** Someone else kept tagging the same version first; retried, then reported retryable. */
    TAG_RACE
}
