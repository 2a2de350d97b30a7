package dev.conveyor.stage;

import java.util.Map;

/**
 * A classified stage failure: a machine reason code from the stage's reason enum, a message for people and named
 * details. The message and details end up in {@code StageFailed} events and logs, so they must never contain a
 * credential: build them from redacted values ({@link dev.conveyor.stage.git.GitUrls#redact}).
 */
public class StageException extends RuntimeException {

    private final FailureKind kind;
    private final String reason;
    private final Map<String, String> details;

    public StageException(FailureKind kind, Enum<?> reason, String message, Map<String, String> details,
            Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.reason = reason.name();
        this.details = Map.copyOf(details);
    }

    /** A failure that retrying cannot fix. */
    public static StageException terminal(Enum<?> reason, String message) {
        return new StageException(FailureKind.TERMINAL, reason, message, Map.of(), null);
    }

    /** A failure that retrying cannot fix, with named details (e.g. the offending field). */
    public static StageException terminal(Enum<?> reason, String message, Map<String, String> details) {
        return new StageException(FailureKind.TERMINAL, reason, message, details, null);
    }

    /** A failure that may pass on a retry. */
    public static StageException transientFailure(Enum<?> reason, String message, Throwable cause) {
        return new StageException(FailureKind.TRANSIENT, reason, message, Map.of(), cause);
    }

    /** Something the stage depends on is not ready yet. */
    public static StageException notReady(Enum<?> reason, String message) {
        return new StageException(FailureKind.NOT_READY, reason, message, Map.of(), null);
    }

    public FailureKind kind() {
        return kind;
    }

    /** The machine reason code, e.g. {@code AUTH_DENIED}. */
    public String reason() {
        return reason;
    }

    public Map<String, String> details() {
        return details;
    }
}
