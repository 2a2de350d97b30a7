package dev.conveyor.events.v1;

/** A required event field is absent or null. */
public class MissingFieldException extends EventFormatException {

    public MissingFieldException(String field) {
        super(field, "missing required field '" + field + "'");
    }
}
