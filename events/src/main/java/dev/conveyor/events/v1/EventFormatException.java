package dev.conveyor.events.v1;

/**
 * An event could not be built or read because a field is missing or invalid. The message names the event type and the
 * field (as a dotted path such as {@code run.commit}); it never contains field values, which may be large or sensitive.
 */
public class EventFormatException extends RuntimeException {

    private final String field;

    public EventFormatException(String field, String message) {
        super(message);
        this.field = field;
    }

    public EventFormatException(String field, String message, Throwable cause) {
        super(message, cause);
        this.field = field;
    }

    /** The dotted path of the offending field, or {@code null} when the document as a whole is unreadable. */
    public String field() {
        return field;
    }
}
