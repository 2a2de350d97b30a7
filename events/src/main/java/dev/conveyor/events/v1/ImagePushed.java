package dev.conveyor.events.v1;

import java.time.Instant;
import java.util.List;

/**
 * The image builder pushed the app's image.
 *
 * @param run the run this event belongs to
 * @param occurredAt when it happened
 * @param causationId the CloudEvents id of the event this one answers
 * @param version the run's version, carried on
 * @param repository the image repository, e.g. {@code registry.example.com/team/app}
 * @param tags the tags pushed, e.g. {@code 1.4.0} and the short commit id
 * @param digest the image manifest's digest, {@code sha256:<hex>}
 * @param sizeBytes the image's compressed size: config and layers
 */
public record ImagePushed(
        PipelineRun run,
        Instant occurredAt,
        @Nullable String causationId,
        String version,
        String repository,
        List<String> tags,
        String digest,
        long sizeBytes) implements ConveyorEvent {

    public ImagePushed {
        Checks.required(run, "run");
        Checks.required(occurredAt, "occurredAt");
        Checks.required(version, "version");
        Checks.required(repository, "repository");
        tags = Checks.list(tags, "tags");
        Checks.digest(digest, "digest");
        Checks.atLeast(sizeBytes, 0L, "sizeBytes");
    }

    /** The immutable reference {@code repository@digest}. */
    public String imageReference() {
        return repository + "@" + digest;
    }
}
