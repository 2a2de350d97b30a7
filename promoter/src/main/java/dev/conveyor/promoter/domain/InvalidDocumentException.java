package dev.conveyor.promoter.domain;

/** A chart, release or index document the promoter cannot use; {@link #field()} names the file or field. */
public class InvalidDocumentException extends RuntimeException {

    private final String field;

    public InvalidDocumentException(String field, String message) {
        super(message);
        this.field = field;
    }

    /** The file or dotted field path at fault. */
    public String field() {
        return field;
    }
}
