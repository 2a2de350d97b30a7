package dev.conveyor.stage.config;

/** A {@code .conveyor.yaml} (or other untrusted YAML) that breaks its rules; the message names the field. */
public class InvalidConfigException extends RuntimeException {

    private final String field;

    public InvalidConfigException(String field, String message) {
        super(message);
        this.field = field;
    }

    /** The dotted path of the offending field, e.g. {@code version.strategy} or {@code apps[1].path}. */
    public String field() {
        return field;
    }
}
