package dev.conveyor.events.v1;

import java.time.Instant;
import java.util.List;

/**
 * The promoter packaged the chart at the run's version and published it to the app's chart repositories.
 *
 * @param run the run this event belongs to
 * @param occurredAt when it happened
 * @param causationId the CloudEvents id of the event this one answers
 * @param chartName the chart's name
 * @param chartVersion the chart version, equal to the run's version
 * @param chartDigest sha256 of the packaged chart, {@code sha256:<hex>}
 * @param repositories where it was published: {@code oci://...} or the chart repository's URL
 * @param imageRepository the image repository, carried on
 * @param imageDigest the image digest, carried on
 */
public record ChartPublished(
        PipelineRun run,
        Instant occurredAt,
        @Nullable String causationId,
        String chartName,
        String chartVersion,
        String chartDigest,
        List<String> repositories,
        String imageRepository,
        String imageDigest) implements ConveyorEvent {

    public ChartPublished {
        Checks.required(run, "run");
        Checks.required(occurredAt, "occurredAt");
        Checks.required(chartName, "chartName");
        Checks.required(chartVersion, "chartVersion");
        Checks.digest(chartDigest, "chartDigest");
        repositories = Checks.list(repositories, "repositories");
        Checks.required(imageRepository, "imageRepository");
        Checks.digest(imageDigest, "imageDigest");
    }
}
