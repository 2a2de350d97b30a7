package dev.conveyor.events.v1;

import java.time.Instant;

/**
 * The manifest renderer rendered the app's chart with the new image, validated every object and, in CD, committed the
 * manifests to the app repository.
 *
 * @param run the run this event belongs to
 * @param occurredAt when it happened
 * @param causationId the CloudEvents id of the event this one answers
 * @param version the run's version, carried on
 * @param imageRepository the image repository, carried on
 * @param imageDigest the image digest, carried on
 * @param chartName the chart's name
 * @param chartPath the chart's directory in the app repository, e.g. {@code chart}
 * @param manifestsCommit the app-repository commit holding {@code manifests/} in CD; absent in CI, or when the rendered
 *     manifests did not change
 * @param objectCount how many Kubernetes objects were rendered
 * @param renderedDigest sha256 over the rendered set, {@code sha256:<hex>}
 * @param diff in CI, the rendered diff against the base branch (possibly truncated); absent in CD
 * @param warnings validation findings that were not errors
 */
public record ManifestsValidated(
        PipelineRun run,
        Instant occurredAt,
        @Nullable String causationId,
        String version,
        String imageRepository,
        String imageDigest,
        String chartName,
        String chartPath,
        @Nullable String manifestsCommit,
        int objectCount,
        String renderedDigest,
        @Nullable String diff,
        int warnings) implements ConveyorEvent {

    public ManifestsValidated {
        Checks.required(run, "run");
        Checks.required(occurredAt, "occurredAt");
        Checks.required(version, "version");
        Checks.required(imageRepository, "imageRepository");
        Checks.digest(imageDigest, "imageDigest");
        Checks.required(chartName, "chartName");
        Checks.required(chartPath, "chartPath");
        Checks.atLeast(objectCount, 0, "objectCount");
        Checks.digest(renderedDigest, "renderedDigest");
        Checks.atLeast(warnings, 0, "warnings");
    }
}
