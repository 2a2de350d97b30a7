package dev.conveyor.events.v1;

/** An event field is present but its value breaks the contract (blank, out of range, not a digest, ...). */
public class InvalidFieldException extends EventFormatException {

    private final String problem;

    public InvalidFieldException(String field, String problem) {
        super(field, "invalid field '" + field + "': " + problem);
        this.problem = problem;
    }

    /** What is wrong with the value, without the field name, e.g. {@code must not be blank}. */
    public String problem() {
        return problem;
    }
}
