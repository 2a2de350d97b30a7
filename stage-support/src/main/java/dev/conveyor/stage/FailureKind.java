package dev.conveyor.stage;

/** The three ways a stage can fail, which decide what happens next. */
public enum FailureKind {
    /** Bad input or a refusal that will not change by itself (auth denied, invalid config): no retry. */
    TERMINAL,
    /** Network trouble, a conflict, a server error: retried with backoff, then reported as retryable. */
    TRANSIENT,
    /** Something the stage waits for is not there yet (an image not yet visible, a lock held): retried later. */
    NOT_READY
}
