package dev.conveyor.gateway.service;

import java.util.List;

import dev.conveyor.gateway.domain.FieldError;

/** A refused request: a reason (with its HTTP status), a message for people, and the bad fields if any. */
public class GatewayException extends RuntimeException {

    private final GatewayFailure reason;
    private final List<FieldError> errors;

    public GatewayException(GatewayFailure reason, String message) {
        this(reason, message, List.of());
    }

    public GatewayException(GatewayFailure reason, String message, List<FieldError> errors) {
        super(message);
        this.reason = reason;
        this.errors = List.copyOf(errors);
    }

    public GatewayFailure reason() {
        return reason;
    }

    public List<FieldError> errors() {
        return errors;
    }
}
