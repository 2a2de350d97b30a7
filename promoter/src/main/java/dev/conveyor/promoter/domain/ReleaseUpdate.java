package dev.conveyor.promoter.domain;

/**
 * What a promotion writes into a release object.
 *
 * @param chartName the chart, also its directory under {@code charts/}
 * @param chartVersion the chart version promoted
 * @param namespace the release's namespace
 * @param release the release (and object) name
 * @param imageRepository the image repository
 * @param imageTag the image tag (the run's version)
 * @param imageDigest the image digest, {@code sha256:<hex>}
 */
public record ReleaseUpdate(String chartName, String chartVersion, String namespace, String release,
        String imageRepository, String imageTag, String imageDigest) {

    /** The image as one reference, pinned by digest: {@code repo:tag@sha256:...}. */
    public String imageReference() {
        return imageRepository + ":" + imageTag + "@" + imageDigest;
    }
}
