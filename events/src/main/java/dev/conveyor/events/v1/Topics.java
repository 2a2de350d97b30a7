package dev.conveyor.events.v1;

/**
 * Kafka topic names, one per event type. Each channel in the services is named after its topic, so these constants
 * serve in {@code @Incoming}/{@code @Channel} annotations, in configuration and in tests alike.
 */
public final class Topics {

    public static final String BUILD_SUCCEEDED = "conveyor.build.succeeded";
    public static final String BUILD_FAILED = "conveyor.build.failed";
    public static final String VERSION_RESOLVED = "conveyor.version.resolved";
    public static final String IMAGE_PUSHED = "conveyor.image.pushed";
    public static final String MANIFESTS_VALIDATED = "conveyor.manifests.validated";
    public static final String CHART_PUBLISHED = "conveyor.chart.published";
    public static final String RELEASE_PROMOTED = "conveyor.release.promoted";
    public static final String REPO_SYNCED = "conveyor.repo.synced";
    public static final String RELEASE_HEALTHY = "conveyor.release.healthy";
    public static final String RELEASE_DEGRADED = "conveyor.release.degraded";
    public static final String STAGE_FAILED = "conveyor.stage.failed";

    /** Suffix of a consuming service's dead-letter topic: {@code <topic>.dlq.<stage>}. */
    public static final String DEAD_LETTER_SUFFIX = ".dlq";

    private Topics() {
    }

    /**
     * The dead-letter topic where {@code stage} puts records of {@code topic} it could not read or handle, e.g.
     * {@code conveyor.image.pushed.dlq.manifest-renderer}. One per consumer, so one stage's poison never reaches
     * another's.
     */
    public static String deadLetter(String topic, Stage stage) {
        return topic + DEAD_LETTER_SUFFIX + "." + stage.id();
    }
}
