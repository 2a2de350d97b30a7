package dev.conveyor.events.v1;

/**
 * What Jenkins built, handed on until the image is built from it.
 *
 * @param uri where to download it: an {@code http(s)://} URL or a {@code file://} path on a shared volume. Credentials
 *     for it come from configuration, never from the URL
 * @param sha256 the artifact's sha256, 64 lower-case hex digits; a download that does not match is refused
 * @param sizeBytes the artifact's size, when Jenkins reported it
 * @param kind how to build an image from it: {@code jar} (a runnable Java jar) or {@code directory} (a tar.gz of a
 *     directory with its own entrypoint); absent means the app's {@code .conveyor.yaml} decides
 */
public record Artifact(String uri, String sha256, @Nullable Long sizeBytes, @Nullable String kind) {

    public Artifact {
        Checks.required(uri, "uri");
        Checks.sha256(sha256, "sha256");
        if (sizeBytes != null) {
            Checks.atLeast(sizeBytes, 0L, "sizeBytes");
        }
    }
}
