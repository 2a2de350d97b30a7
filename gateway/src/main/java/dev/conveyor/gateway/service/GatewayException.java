package dev.conveyor.gateway.service;

import java.util.List;

import dev.conveyor.gateway.domain.FieldError;

/** A refused request: a reason (with its HTTP status), a message for people, and the bad fields if any. */
public class GatewayException extends RuntimeException {

    private final GatewayFailure reason;
    private final List<FieldError> errors;
    private java.time.Duration retryAfter;

    public GatewayException(GatewayFailure reason, String message) {
        this(reason, message, List.of());
    }

    public GatewayException(GatewayFailure reason, String message, List<FieldError> errors) {
        super(message);
        this.reason = reason;
        this.errors = List.copyOf(errors);
    }

    /** A refusal that the sender may retry after {@code retryAfter} ({@code RATE_LIMITED}). */
    public static GatewayException retryAfter(GatewayFailure reason, String message, java.time.Duration retryAfter) {
        GatewayException e = new GatewayException(reason, message);
        e.retryAfter = retryAfter;
        return e;
    }

    /** When the sender may try again, if the refusal says so. */
    public java.util.Optional<java.time.Duration> retryAfter() {
        return java.util.Optional.ofNullable(retryAfter);
    }

    public GatewayFailure reason() {
        return reason;
    }

    public List<FieldError> errors() {
        return errors;
    }
}
