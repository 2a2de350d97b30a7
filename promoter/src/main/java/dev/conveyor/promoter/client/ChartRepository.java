package dev.conveyor.promoter.client;

/** A place charts are published to. Publishing the same version twice is safe; a changed version is refused. */
public interface ChartRepository {

    /** What a publish did. */
    enum Outcome {
        PUBLISHED, ALREADY_PUBLISHED
    }

    /** Reason codes of chart publishing. */
    enum Failure {
        /** The version is already published with different content; versions are immutable. Terminal. */
        CHART_VERSION_CONFLICT,
        /** The repository refused our credentials. Terminal. */
        CHART_REPO_AUTH_DENIED,
        /** The repository could not be reached or answered with a server error. Transient. */
        CHART_REPO_UNAVAILABLE,
        /** The repository answered something the promoter does not understand. Terminal. */
        CHART_REPO_ERROR
    }

    /** The repository's configuration id. */
    String id();

    /** Its URL without credentials, as published in {@code ChartPublished.repositories}. */
    String url();

    /** Publishes the chart unless this version is already there with the same digest; {@code runId} for audit. */
    Outcome publish(PackagedChart chart, String runId);
}
