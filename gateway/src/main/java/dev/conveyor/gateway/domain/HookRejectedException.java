package dev.conveyor.gateway.domain;

import java.util.List;
import java.util.stream.Collectors;

/** A hook payload with invalid fields; every bad field is listed, not only the first. */
public class HookRejectedException extends RuntimeException {

    private final List<FieldError> errors;

    public HookRejectedException(List<FieldError> errors) {
        super(errors.stream().map(e -> e.field() + ": " + e.message()).collect(Collectors.joining("; ")));
        this.errors = List.copyOf(errors);
    }

    /** Whether a field is over its length limit (answered 413 rather than 400). */
    public boolean tooLarge() {
        return errors.stream().anyMatch(e -> e.message().startsWith(JenkinsHooks.TOO_LONG));
    }

    public List<FieldError> errors() {
        return errors;
    }
}
