package dev.conveyor.manifests.domain;

/** The rendered output as a whole is unacceptable: too large, an alias bomb, too deep. */
public final class ManifestInputException extends RuntimeException {

    /** Why the output was refused. */
    public enum Reason {
        /** Larger than the configured byte cap. */
        OUTPUT_TOO_LARGE,
        /** More aliases, or more nodes once aliases are expanded, than allowed: a "billion laughs" document. */
        YAML_ALIAS_BOMB
    }

    private final Reason reason;

    public ManifestInputException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
