package dev.conveyor.events.v1;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The catalog of event types: each record class with its CloudEvents {@code type}
 * ({@code dev.conveyor.<subject>.<predicate>.v1}) and its topic ({@code conveyor.<subject>.<predicate>}).
 */
public enum EventType {
    BUILD_SUCCEEDED(BuildSucceeded.class, "build", "succeeded", Topics.BUILD_SUCCEEDED), BUILD_FAILED(BuildFailed.class,
            "build", "failed", Topics.BUILD_FAILED), VERSION_RESOLVED(VersionResolved.class, "version", "resolved",
                    Topics.VERSION_RESOLVED), IMAGE_PUSHED(ImagePushed.class, "image", "pushed",
                            Topics.IMAGE_PUSHED), MANIFESTS_VALIDATED(ManifestsValidated.class, "manifests",
                                    "validated", Topics.MANIFESTS_VALIDATED), CHART_PUBLISHED(ChartPublished.class,
                                            "chart", "published",
                                            Topics.CHART_PUBLISHED), RELEASE_PROMOTED(ReleasePromoted.class, "release",
                                                    "promoted", Topics.RELEASE_PROMOTED), REPO_SYNCED(RepoSynced.class,
                                                            "repo", "synced", Topics.REPO_SYNCED), RELEASE_HEALTHY(
                                                                    ReleaseHealthy.class, "release", "healthy",
                                                                    Topics.RELEASE_HEALTHY), RELEASE_DEGRADED(
                                                                            ReleaseDegraded.class, "release",
                                                                            "degraded",
                                                                            Topics.RELEASE_DEGRADED), STAGE_FAILED(
                                                                                    StageFailed.class, "stage",
                                                                                    "failed", Topics.STAGE_FAILED);

    /** Prefix of every Conveyor CloudEvents type. */
    public static final String TYPE_PREFIX = "dev.conveyor.";
    /** Suffix of the contract version this package implements. */
    public static final String VERSION_SUFFIX = ".v1";

    private static final Map<Class<?>, EventType> BY_CLASS = Arrays.stream(values())
            .collect(Collectors.toUnmodifiableMap(EventType::recordClass, Function.identity()));
    private static final Map<String, EventType> BY_TYPE = Arrays.stream(values())
            .collect(Collectors.toUnmodifiableMap(EventType::type, Function.identity()));
    private static final Map<String, EventType> BY_TOPIC = Arrays.stream(values())
            .collect(Collectors.toUnmodifiableMap(EventType::topic, Function.identity()));

    private final Class<? extends ConveyorEvent> recordClass;
    private final String type;
    private final String topic;

    EventType(Class<? extends ConveyorEvent> recordClass, String subject, String predicate, String topic) {
        this.recordClass = recordClass;
        this.type = TYPE_PREFIX + subject + "." + predicate + VERSION_SUFFIX;
        this.topic = topic;
    }

    /** The Java record of this event. */
    public Class<? extends ConveyorEvent> recordClass() {
        return recordClass;
    }

    /** The CloudEvents type, e.g. {@code dev.conveyor.image.pushed.v1}. */
    public String type() {
        return type;
    }

    /** The Kafka topic and channel name, e.g. {@code conveyor.image.pushed}. */
    public String topic() {
        return topic;
    }

    /** The simple name used for schema files and logs, e.g. {@code ImagePushed}. */
    public String eventName() {
        return recordClass.getSimpleName();
    }

    /** The type of an event record class. */
    public static EventType of(Class<?> recordClass) {
        EventType type = BY_CLASS.get(recordClass);
        if (type == null) {
            throw new IllegalArgumentException(recordClass.getName() + " is not a Conveyor event");
        }
        return type;
    }

    /** The event type with this CloudEvents type, if it is one of ours. */
    public static Optional<EventType> fromCloudEventType(String ceType) {
        return Optional.ofNullable(ceType).map(BY_TYPE::get);
    }

    /** The event type published on this topic, if it is one of ours. */
    public static Optional<EventType> fromTopic(String topic) {
        return Optional.ofNullable(topic).map(BY_TOPIC::get);
    }
}
