package dev.conveyor.imagebuilder.client;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.net.ssl.SSLException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.conveyor.imagebuilder.service.ImageBuilderFailure;
import dev.conveyor.stage.FailureKind;
import dev.conveyor.stage.StageException;

/**
 * The few OCI distribution API calls Jib does not offer: does a tag exist and at which digest, read a manifest, put a
 * manifest under another tag, and an image's size. Speaks Basic and Bearer token auth (Docker Hub), HTTPS unless the
 * registry is listed as insecure. Failures are classified; messages never carry a credential.
 */
public final class RegistryApi {

    /** A manifest as the registry serves it. */
    public record Manifest(String digest, String mediaType, byte[] body) {
    }

    /** Accept header for every manifest kind: OCI and Docker, single image or index. */
    public static final String MANIFEST_ACCEPT = String.join(",", "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.docker.distribution.manifest.list.v2+json");

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Runs the blob checks and uploads of a push side by side. */
    private static final ExecutorService TRANSFERS = Executors
            .newCachedThreadPool(runnable -> {
                Thread thread = new Thread(runnable, "image-builder-blob-transfer");
                thread.setDaemon(true);
                return thread;
            });
    private static final Pattern PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");

    private final HttpClient http;
    private final RegistryCredentials credentials;
    private final Set<String> insecure;
    private final Duration timeout;
    /**
     * The Authorization header that last worked per registry, repository and scope (pull or push), sent up front so a
     * push is not two requests per call; a 401 drops it and answers the challenge again. In memory only.
     */
    private final Map<String, String> authorizations = new ConcurrentHashMap<>();
    private final Map<String, Object> challengeLocks = new ConcurrentHashMap<>();

    public RegistryApi(HttpClient http, RegistryCredentials credentials, Set<String> insecure, Duration timeout) {
        this.http = http;
        this.credentials = credentials;
        this.insecure = Set.copyOf(insecure.stream().map(RegistryCredentials::normalize).toList());
        this.timeout = timeout;
    }

    /** Whether plain HTTP is allowed for {@code registry}. */
    public boolean isInsecure(String registry) {
        return insecure.contains(RegistryCredentials.normalize(registry));
    }

    /** The digest a tag (or digest) resolves to, or empty when the registry does not have it. */
    public Optional<String> digest(String registry, String repository, String reference) {
        HttpResponse<byte[]> response = send(registry, repository, false, HttpRequest.newBuilder(manifestUri(registry,
                repository, reference)).header("Accept", MANIFEST_ACCEPT).method("HEAD",
                        HttpRequest.BodyPublishers.noBody()));
        if (response.statusCode() == 404) {
            return Optional.empty();
        }
        expect(response, 200, registry, repository);
        return response.headers().firstValue("Docker-Content-Digest");
    }

    /** The manifest of a tag or digest, or empty when the registry does not have it. */
    public Optional<Manifest> manifest(String registry, String repository, String reference) {
        HttpResponse<byte[]> response = send(registry, repository, false, HttpRequest.newBuilder(manifestUri(registry,
                repository, reference)).header("Accept", MANIFEST_ACCEPT).GET());
        if (response.statusCode() == 404) {
            return Optional.empty();
        }
        expect(response, 200, registry, repository);
        String mediaType = response.headers().firstValue("Content-Type").orElse(MANIFEST_ACCEPT.split(",")[0]);
        String digest = response.headers().firstValue("Docker-Content-Digest").orElse(reference);
        return Optional.of(new Manifest(digest, mediaType, response.body()));
    }

    /**
     * Puts {@code manifest} under {@code tag} (moving a tag to an image the repository holds, or the last step of a
     * push); returns the digest the registry answered with, empty when it named none.
     */
    public String putManifest(String registry, String repository, String tag, Manifest manifest) {
        HttpResponse<byte[]> response = send(registry, repository, true, HttpRequest.newBuilder(manifestUri(registry,
                repository, tag)).header("Content-Type", manifest.mediaType())
                .PUT(HttpRequest.BodyPublishers.ofByteArray(manifest.body())));
        expect(response, 201, registry, repository);
        return response.headers().firstValue("Docker-Content-Digest").orElse("");
    }

    /** The compressed size of an image: its manifest's config and layers. */
    public long imageSize(String registry, String repository, String digest) {
        Manifest manifest = manifest(registry, repository, digest).orElseThrow(() -> StageException.transientFailure(
                ImageBuilderFailure.REGISTRY_UNAVAILABLE, "registry " + registry + " does not serve " + repository
                        + "@" + digest + " right after the push",
                null));
        try {
            JsonNode root = JSON.readTree(manifest.body());
            long size = root.path("config").path("size").asLong();
            for (JsonNode layer : root.path("layers")) {
                size += layer.path("size").asLong();
            }
            return size;
        } catch (IOException e) {
            throw StageException.transientFailure(ImageBuilderFailure.IMAGE_BUILD_FAILED, "registry " + registry
                    + " served an unreadable manifest for " + repository + "@" + digest, e);
        }
    }

    /**
     * Pushes an image Jib built: every blob the repository lacks (a base layer of the same registry is mounted from the
     * base's repository where the registry allows it, anything else uploaded in one PUT), then the manifest under each
     * tag, the first tag first. The manifest goes last, so an interrupted push leaves no tag, only blobs, and a rerun
     * is safe. Returns the digest the registry gave the manifest, checked against the built one.
     *
     * @param mountFrom the base image's repository when it lives in the same registry
     */
    public String push(String registry, String repository, BuiltImage image, List<String> tags,
            Optional<String> mountFrom) {
        List<BuiltImage.Blob> blobs = new ArrayList<>(image.layers());
        blobs.add(image.config());
        // Every blob is checked (and, when missing, mounted or uploaded) at the same time, on pooled connections.
        Set<String> seen = new HashSet<>();
        List<CompletableFuture<Void>> transfers = new ArrayList<>();
        for (BuiltImage.Blob blob : blobs) {
            if (seen.add(blob.digest())) {
                transfers.add(CompletableFuture.runAsync(() -> {
                    if (!blobExists(registry, repository, blob.digest())) {
                        upload(registry, repository, blob, blob.fromBase() ? mountFrom : Optional.empty());
                    }
                }, TRANSFERS));
            }
        }
        for (CompletableFuture<Void> transfer : transfers) {
            try {
                transfer.join();
            } catch (CompletionException e) {
                transfers.forEach(other -> other.cancel(true));
                if (e.getCause() instanceof RuntimeException cause) {
                    throw cause;
                }
                throw e;
            }
        }
        Manifest manifest = new Manifest(image.digest(), image.manifestMediaType(), image.manifest());
        for (String tag : tags) {
            String stored = putManifest(registry, repository, tag, manifest);
            if (!stored.isEmpty() && !stored.equals(image.digest())) {
                throw StageException.transientFailure(ImageBuilderFailure.IMAGE_BUILD_FAILED, "registry " + registry
                        + " stored " + repository + ":" + tag + " as " + stored + ", built " + image.digest(), null);
            }
        }
        return image.digest();
    }

    /**
     * Whether the repository holds a blob. The OCI distribution spec wants a 200 for a blob that exists; registries on
     * object storage (distribution's storage redirect, S3, GCS, Azure) answer a {@code 307} to a signed storage URL
     * instead, and only after they found the blob linked in this repository, so a 307 is "present" and is not followed
     * (its host is storage, outside the registry's origin). Any other redirect (a {@code 302} of a proxy or a login
     * page) says nothing about the blob: it counts as absent and the blob is uploaded, which the registry then
     * verifies.
     */
    public boolean blobExists(String registry, String repository, String digest) {
        HttpResponse<byte[]> response = send(registry, repository, true, HttpRequest.newBuilder(URI.create(base(
                registry) + "/v2/" + repository + "/blobs/" + digest)).method("HEAD", HttpRequest.BodyPublishers
                        .noBody()));
        int status = response.statusCode();
        if (status == 307) {
            return true;
        }
        if (status == 404 || status >= 300 && status < 400) {
            return false;
        }
        expect(response, 200, registry, repository);
        return true;
    }

    private void upload(String registry, String repository, BuiltImage.Blob blob, Optional<String> mountFrom) {
        String start = base(registry) + "/v2/" + repository + "/blobs/uploads/" + mountFrom.map(from -> "?mount="
                + URLEncoder.encode(blob.digest(), StandardCharsets.UTF_8) + "&from=" + URLEncoder.encode(from,
                        StandardCharsets.UTF_8))
                .orElse("");
        HttpResponse<byte[]> started = send(registry, repository, true, mountFrom, HttpRequest.newBuilder(URI.create(
                start))
                .POST(HttpRequest.BodyPublishers.noBody()));
        if (mountFrom.isPresent() && started.statusCode() == 201) {
            return;
        }
        if (mountFrom.isPresent() && (started.statusCode() == 401 || started.statusCode() == 403)) {
            // A token for this repository does not cover reading the base's: upload instead.
            upload(registry, repository, blob, Optional.empty());
            return;
        }
        // Without a mount (or when the registry declined it and opened an upload instead): one monolithic PUT.
        expect(started, 202, registry, repository);
        URI location = uploadLocation(registry, repository, started);
        String separator = location.getRawQuery() == null ? "?" : "&";
        HttpRequest.BodyPublisher body;
        try {
            body = blob.bytes() != null
                    ? HttpRequest.BodyPublishers.ofByteArray(blob.bytes())
                    : HttpRequest.BodyPublishers.ofFile(blob.file());
        } catch (java.io.FileNotFoundException e) {
            throw StageException.transientFailure(ImageBuilderFailure.IMAGE_BUILD_FAILED, "layer " + blob.digest()
                    + " vanished from the build's caches", e);
        }
        HttpResponse<byte[]> put = send(registry, repository, true, HttpRequest.newBuilder(URI.create(location
                + separator + "digest=" + URLEncoder.encode(blob.digest(), StandardCharsets.UTF_8))).header(
                        "Content-Type", "application/octet-stream")
                .PUT(body));
        expect(put, 201, registry, repository);
    }

    /**
     * Where the registry wants the blob: its {@code Location}, relative or absolute. Only the registry's own origin is
     * accepted, so an answer can never send a layer (or a credential) to another host.
     */
    private URI uploadLocation(String registry, String repository, HttpResponse<byte[]> started) {
        String location = started.headers().firstValue("Location").orElseThrow(() -> StageException.transientFailure(
                ImageBuilderFailure.IMAGE_BUILD_FAILED, "registry " + registry + " opened an upload for "
                        + repository + " without a Location",
                null));
        URI base = URI.create(base(registry) + "/");
        URI resolved = base.resolve(location);
        if (!base.getScheme().equals(resolved.getScheme()) || !base.getRawAuthority().equalsIgnoreCase(resolved
                .getRawAuthority())) {
            throw StageException.terminal(ImageBuilderFailure.IMAGE_BUILD_FAILED, "registry " + registry
                    + " asked for the upload of " + repository + " to go to " + resolved.getScheme() + "://"
                    + resolved.getHost() + (resolved.getPort() == -1 ? "" : ":" + resolved.getPort())
                    + ", another origin than " + base(registry) + "; refused", Map.of("registry", registry));
        }
        return resolved;
    }

    private URI manifestUri(String registry, String repository, String reference) {
        return URI.create(base(registry) + "/v2/" + repository + "/manifests/" + URLEncoder.encode(reference,
                StandardCharsets.UTF_8));
    }

    private String base(String registry) {
        String host = RegistryCredentials.apiHost(registry);
        return (isInsecure(registry) ? "http://" : "https://") + host;
    }

    private HttpResponse<byte[]> send(String registry, String repository, boolean push,
            HttpRequest.Builder request) {
        return send(registry, repository, push, Optional.empty(), request);
    }

    /** @param pullToo another repository a token must also let us read (the source of a cross-repository mount) */
    private HttpResponse<byte[]> send(String registry, String repository, boolean push, Optional<String> pullToo,
            HttpRequest.Builder request) {
        request.timeout(timeout);
        String key = RegistryCredentials.normalize(registry) + " " + repository + (push ? " push" : " pull")
                + pullToo.map(from -> " " + from).orElse("");
        String known = authorizations.get(key);
        HttpRequest.Builder first = request.copy();
        if (known != null) {
            first.header("Authorization", known);
        }
        HttpResponse<byte[]> response = exchange(registry, first.build());
        if (response.statusCode() != 401) {
            return response;
        }
        // No authorization yet, or a token that expired: answer the challenge, once for all the calls of a push
        // that met it at the same time.
        String authorization;
        synchronized (challengeLocks.computeIfAbsent(key, k -> new Object())) {
            String current = authorizations.get(key);
            if (current != null && !current.equals(known)) {
                authorization = current;
            } else {
                authorizations.remove(key);
                authorization = authorize(registry, repository, push, pullToo, response);
                authorizations.put(key, authorization);
            }
        }
        response = exchange(registry, request.copy().header("Authorization", authorization).build());
        if (response.statusCode() == 401 || response.statusCode() == 403) {
            authorizations.remove(key, authorization);
        }
        return response;
    }

    private String authorize(String registry, String repository, boolean push, Optional<String> pullToo,
            HttpResponse<byte[]> unauthorized) {
        Optional<RegistryCredentials.Credential> credential = credentials.find(registry);
        String challenge = unauthorized.headers().firstValue("WWW-Authenticate").orElse("");
        if (challenge.regionMatches(true, 0, "Bearer", 0, 6)) {
            return "Bearer " + token(registry, repository, push, pullToo, challenge, credential);
        }
        if (credential.isPresent()) {
            return basic(credential.get());
        }
        throw denied(registry, repository, "no credentials are configured for it");
    }

    private String token(String registry, String repository, boolean push, Optional<String> pullToo, String challenge,
            Optional<RegistryCredentials.Credential> credential) {
        Map<String, String> params = new LinkedHashMap<>();
        Matcher matcher = PARAM.matcher(challenge);
        while (matcher.find()) {
            params.put(matcher.group(1).toLowerCase(Locale.ROOT), matcher.group(2));
        }
        String realm = params.get("realm");
        if (realm == null) {
            throw denied(registry, repository, "its token challenge names no realm");
        }
        String scope = "repository:" + repository + ":" + (push ? "pull,push" : "pull");
        StringBuilder url = new StringBuilder(realm).append(realm.contains("?") ? "&" : "?").append("scope=")
                .append(URLEncoder.encode(scope, StandardCharsets.UTF_8));
        pullToo.ifPresent(from -> url.append("&scope=").append(URLEncoder.encode("repository:" + from + ":pull",
                StandardCharsets.UTF_8)));
        if (params.containsKey("service")) {
            url.append("&service=").append(URLEncoder.encode(params.get("service"), StandardCharsets.UTF_8));
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url.toString())).timeout(timeout).GET();
        credential.ifPresent(c -> request.header("Authorization", basic(c)));
        HttpResponse<byte[]> response = exchange(registry, request.build());
        if (response.statusCode() == 401 || response.statusCode() == 403) {
            throw denied(registry, repository, "its token service refused the configured credentials");
        }
        expect(response, 200, registry, repository);
        try {
            JsonNode body = JSON.readTree(response.body());
            String token = body.path("token").asText(body.path("access_token").asText(""));
            if (token.isEmpty()) {
                throw denied(registry, repository, "its token service answered without a token");
            }
            return token;
        } catch (IOException e) {
            throw StageException.transientFailure(ImageBuilderFailure.REGISTRY_UNAVAILABLE, "the token service of "
                    + registry + " answered with invalid JSON", e);
        }
    }

    private HttpResponse<byte[]> exchange(String registry, HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (SSLException e) {
            throw tlsFailure(registry, e);
        } catch (IOException e) {
            if (hasCause(e, SSLException.class)) {
                throw tlsFailure(registry, e);
            }
            throw StageException.transientFailure(ImageBuilderFailure.REGISTRY_UNAVAILABLE, "registry " + registry
                    + " cannot be reached: " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : " " + e.getMessage()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw StageException.transientFailure(ImageBuilderFailure.REGISTRY_UNAVAILABLE, "interrupted", e);
        }
    }

    static StageException tlsFailure(String registry, Exception e) {
        return new StageException(FailureKind.TERMINAL, ImageBuilderFailure.REGISTRY_TLS_ERROR, "registry "
                + registry + " failed the TLS handshake; if it serves plain HTTP, list it under "
                + "conveyor.image-builder.insecure-registries", Map.of("registry", registry), e);
    }

    private void expect(HttpResponse<byte[]> response, int expected, String registry, String repository) {
        int status = response.statusCode();
        if (status == expected) {
            return;
        }
        if (status == 401 || status == 403) {
            throw denied(registry, repository, "it refused the configured credentials (HTTP " + status + ")");
        }
        if (status >= 500 || status == 429 || status == 408) {
            throw StageException.transientFailure(ImageBuilderFailure.REGISTRY_UNAVAILABLE, "registry " + registry
                    + " answered HTTP " + status + " for " + repository, null);
        }
        throw StageException.transientFailure(ImageBuilderFailure.IMAGE_BUILD_FAILED, "registry " + registry
                + " answered HTTP " + status + " for " + repository + ": " + snippet(response.body()), null);
    }

    static StageException denied(String registry, String repository, String why) {
        return StageException.terminal(ImageBuilderFailure.REGISTRY_AUTH_DENIED, "registry " + registry
                + " denied access to " + repository + ": " + why + " (conveyor.image-builder.registries.\""
                + RegistryCredentials.normalize(registry) + "\")",
                Map.of("registry", registry, "repository",
                        repository));
    }

    private static String basic(RegistryCredentials.Credential credential) {
        return "Basic " + Base64.getEncoder().encodeToString((credential.username() + ":" + credential.password())
                .getBytes(StandardCharsets.UTF_8));
    }

    private static String snippet(byte[] body) {
        String text = new String(body, StandardCharsets.UTF_8).replaceAll("\\s+", " ");
        return text.length() > 200 ? text.substring(0, 200) + "..." : text;
    }

    private static boolean hasCause(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }
}
