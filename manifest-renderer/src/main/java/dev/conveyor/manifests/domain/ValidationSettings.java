package dev.conveyor.manifests.domain;

/**
 * How strictly objects are validated.
 *
 * @param strict unknown fields are errors (duplicate keys always are)
 * @param missingSchema what a kind without any schema is
 * @param apiChecks run the API server's own checks that schemas miss (image, selector, names, duplicates)
 */
public record ValidationSettings(boolean strict, MissingSchema missingSchema, boolean apiChecks) {

    /** What to do with a kind no schema source knows. */
    public enum MissingSchema {
        /** Report it as an error, like kubeconform without {@code -ignore-missing-schemas}. */
        ERROR,
        /** Count it as a warning and skip it. */
        SKIP
    }

    /** Strict, missing schemas are errors, API checks on. */
    public static ValidationSettings strictDefaults() {
        return new ValidationSettings(true, MissingSchema.ERROR, true);
    }
}
