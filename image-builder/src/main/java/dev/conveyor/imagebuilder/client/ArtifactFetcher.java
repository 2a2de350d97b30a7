package dev.conveyor.imagebuilder.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import dev.conveyor.events.v1.Artifact;
import dev.conveyor.imagebuilder.service.ImageBuilderFailure;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.net.OutboundPolicy;

/**
 * Fetches the build artifact into a work directory, refusing anything larger than the limit and anything whose sha256
 * is not the one the event names. {@code file://} artifacts must lie under one of the allowed roots (a shared volume);
 * {@code http(s)://} ones are downloaded with the credentials configured for their host, never with any from the
 * event. Redirects are followed by hand so credentials are never sent to another host.
 */
public final class ArtifactFetcher {

    /** Credentials for one artifact host: a bearer token, or a user name and password. */
    public record HostAuth(Optional<String> username, Optional<String> password, Optional<String> token) {

        String header() {
            if (token.isPresent()) {
                return "Bearer " + token.get();
            }
            String pair = username.orElse("") + ":" + password.orElse("");
            return "Basic " + java.util.Base64.getEncoder().encodeToString(pair.getBytes(
                    java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    private static final int MAX_REDIRECTS = 5;
    /** The event field the artifact URL comes from, named in refusals. */
    static final String FIELD = "artifact.uri";

    private final HttpClient http;
    private final long maxBytes;
    private final Duration timeout;
    private final List<Path> fileRoots;
    private final Map<String, HostAuth> auth;
    private final OutboundPolicy policy;

    /**
     * @param maxBytes the largest artifact accepted
     * @param timeout how long one download may take
     * @param fileRoots directories {@code file://} artifacts may come from
     * @param auth credentials by {@code host} or {@code host:port}
     * @param policy the installation's outbound policy, checked before the first request and before every redirect
     *        hop (and for {@code file://} artifacts, on the canonical path)
     */
    public ArtifactFetcher(HttpClient http, long maxBytes, Duration timeout, List<Path> fileRoots,
            Map<String, HostAuth> auth, OutboundPolicy policy) {
        this.http = http;
        this.maxBytes = maxBytes;
        this.timeout = timeout;
        this.fileRoots = fileRoots.stream().map(p -> p.toAbsolutePath().normalize()).toList();
        this.auth = Map.copyOf(auth);
        this.policy = policy;
    }

    /** Fetches and verifies the artifact into {@code dir}; the caller deletes {@code dir}. */
    public Path fetch(Artifact artifact, Path dir) {
        URI uri;
        try {
            uri = URI.create(artifact.uri());
        } catch (IllegalArgumentException e) {
            throw refused(artifact, "is not a valid URI");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (artifact.sizeBytes() != null && artifact.sizeBytes() > maxBytes) {
            throw tooLarge(artifact, artifact.sizeBytes());
        }
        Path target = dir.resolve("artifact");
        String sha256 = switch (scheme) {
            case "file" -> copyFile(artifact, uri, target);
            case "http", "https" -> download(artifact, uri, target);
            default -> throw refused(artifact, "must be an http(s):// URL or a file:// path");
        };
        // Never say what was fetched instead: its digest or size would tell a prober about a resource it cannot read.
        if (!sha256.equals(artifact.sha256())) {
            throw StageException.terminal(ImageBuilderFailure.CHECKSUM_MISMATCH, "artifact " + display(uri)
                    + " does not match the build's sha256 " + artifact.sha256() + ": what was fetched has a "
                    + "different digest", Map.of("artifact", display(uri), "expected", artifact.sha256()));
        }
        try {
            long size = Files.size(target);
            if (artifact.sizeBytes() != null && artifact.sizeBytes() != size) {
                throw StageException.terminal(ImageBuilderFailure.CHECKSUM_MISMATCH, "artifact " + display(uri)
                        + " does not have the " + artifact.sizeBytes() + " bytes the build reported",
                        Map.of("artifact", display(uri)));
            }
        } catch (IOException e) {
            throw new StageException(dev.conveyor.stage.FailureKind.TRANSIENT, ImageBuilderFailure.IMAGE_BUILD_FAILED,
                    "cannot read the downloaded artifact: " + e.getMessage(), Map.of(), e);
        }
        return target;
    }

    private String copyFile(Artifact artifact, URI uri, Path target) {
        Path source;
        try {
            source = Path.of(uri).toAbsolutePath().normalize();
        } catch (IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
            throw refused(artifact, "is not a local file path");
        }
        Path real;
        try {
            real = source.toRealPath();
        } catch (NoSuchFileException e) {
            throw missing(uri, "no such file");
        } catch (IOException e) {
            throw missing(uri, e.getMessage());
        }
        // Checked on the resolved path, so a symbolic link cannot lead out of the shared volume.
        if (fileRoots.stream().noneMatch(root -> real.startsWith(realOrSelf(root)))) {
            throw refused(artifact, "is outside the allowed artifact directories");
        }
        policy.checkConnect(FIELD, artifact.uri());
        if (!Files.isRegularFile(real)) {
            throw missing(uri, "not a regular file");
        }
        try (InputStream in = Files.newInputStream(real)) {
            return copy(in, target, artifact, uri);
        } catch (IOException e) {
            throw missing(uri, e.getMessage());
        }
    }

    private static Path realOrSelf(Path root) {
        try {
            return root.toRealPath();
        } catch (IOException e) {
            return root;
        }
    }

    private String download(Artifact artifact, URI start, Path target) {
        URI uri = start;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            // The URL came from the hook, the next hops from the server: each is dialled only if the policy allows
            // it, so an allowed host cannot redirect us to a refused one.
            policy.checkConnect(FIELD, uri.toString());
            HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout).GET();
            HostAuth credentials = auth.get(hostKey(uri));
            if (credentials == null) {
                credentials = auth.get(uri.getHost());
            }
            if (credentials != null) {
                request.header("Authorization", credentials.header());
            }
            HttpResponse<InputStream> response;
            try {
                response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (IOException e) {
                throw StageException.transientFailure(ImageBuilderFailure.ARTIFACT_UNREACHABLE, "cannot download "
                        + display(start) + ": " + e.getClass().getSimpleName()
                        + (e.getMessage() == null ? "" : " " + e.getMessage()), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw StageException.transientFailure(ImageBuilderFailure.ARTIFACT_UNREACHABLE, "interrupted", e);
            }
            int status = response.statusCode();
            try (InputStream body = response.body()) {
                if (status >= 300 && status < 400 && response.headers().firstValue("Location").isPresent()) {
                    uri = uri.resolve(response.headers().firstValue("Location").get());
                    continue;
                }
                if (status == 404 || status == 410) {
                    throw missing(start, "HTTP " + status);
                }
                if (status == 401 || status == 403) {
                    throw StageException.terminal(ImageBuilderFailure.ARTIFACT_ACCESS_DENIED, "the artifact server "
                            + "refused " + display(start) + " (HTTP " + status + "): check the credentials under "
                            + "conveyor.image-builder.artifact.auth for " + hostKey(start),
                            Map.of("artifact", display(start)));
                }
                if (status != 200) {
                    throw StageException.transientFailure(ImageBuilderFailure.ARTIFACT_UNREACHABLE, "downloading "
                            + display(start) + " answered HTTP " + status, null);
                }
                Optional<Long> length = response.headers().firstValueAsLong("Content-Length").stream().boxed()
                        .findFirst();
                if (length.isPresent() && length.get() > maxBytes) {
                    throw tooLarge(artifact, length.get());
                }
                return copy(body, target, artifact, start);
            } catch (IOException e) {
                throw StageException.transientFailure(ImageBuilderFailure.ARTIFACT_UNREACHABLE, "download of "
                        + display(start) + " broke off: " + e.getMessage(), e);
            }
        }
        throw StageException.terminal(ImageBuilderFailure.ARTIFACT_MISSING, "more than " + MAX_REDIRECTS
                + " redirects for " + display(start), Map.of("artifact", display(start)));
    }

    private String copy(InputStream in, Path target, Artifact artifact, URI uri) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buffer = new byte[64 * 1024];
        long total = 0;
        try (OutputStream out = new DigestOutputStream(Files.newOutputStream(target), sha)) {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                total += n;
                if (total > maxBytes) {
                    throw tooLarge(artifact, total);
                }
                out.write(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private StageException tooLarge(Artifact artifact, long size) {
        return StageException.terminal(ImageBuilderFailure.ARTIFACT_TOO_LARGE, "artifact " + display(URI.create(
                artifact.uri())) + " is larger than the limit of " + maxBytes + " bytes",
                Map.of("artifact", display(URI.create(artifact.uri())), "limit", Long.toString(maxBytes)));
    }

    private static StageException missing(URI uri, String why) {
        return StageException.terminal(ImageBuilderFailure.ARTIFACT_MISSING, "artifact " + display(uri)
                + " is missing: " + why, Map.of("artifact", display(uri)));
    }

    private static StageException refused(Artifact artifact, String why) {
        String shown = artifact.uri().replaceAll("//[^/@]*@", "//***@");
        return StageException.terminal(ImageBuilderFailure.ARTIFACT_URI_REFUSED, "artifact.uri " + shown + " " + why,
                Map.of("field", "artifact.uri"));
    }

    private static String hostKey(URI uri) {
        return uri.getPort() < 0 ? uri.getHost() : uri.getHost() + ":" + uri.getPort();
    }

    /** The URI without user info or query (either may hold a secret). */
    static String display(URI uri) {
        if (uri.getScheme() == null || "file".equalsIgnoreCase(uri.getScheme())) {
            return uri.getScheme() == null ? "(invalid)" : "file://" + uri.getPath();
        }
        return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort())
                + (uri.getRawPath() == null ? "" : uri.getRawPath());
    }
}
