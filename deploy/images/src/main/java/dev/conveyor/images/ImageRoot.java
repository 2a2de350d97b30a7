package dev.conveyor.images;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * An image's root file system, pulled from a plain-HTTP registry and unpacked as a container runtime does: the
 * manifest, the config blob, then every layer in order, each checked against its digest and extracted with
 * {@code tar} keeping owners and modes (run as root). Whiteout files are not applied: the images built here delete
 * nothing, and an image that does is refused.
 */
final class ImageRoot {

    private static final String ACCEPT = String.join(",", "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    /** What a runtime reads from the image's config to start it. */
    record Config(List<String> entrypoint, List<String> cmd, String workingDir, String user, Map<String, String> env,
            String digest) {

        /** The numeric {@code uid} and {@code gid} of {@code User} ({@code 185:185} or {@code 185}). */
        int[] uidGid() {
            String[] parts = user.isEmpty() ? new String[]{"0"} : user.split(":");
            int uid = Integer.parseInt(parts[0]);
            return new int[]{uid, parts.length > 1 ? Integer.parseInt(parts[1]) : uid};
        }
    }

    private ImageRoot() {
    }

    /**
     * Unpacks {@code <registry>/<repository>:<tag>} into {@code root} (created, must not exist) and returns its
     * config.
     */
    static Config unpack(String registry, String repository, String tag, Path root) throws IOException {
        if (Files.exists(root)) {
            throw new IllegalArgumentException("root: " + root + " exists; an image is unpacked into a fresh one");
        }
        Files.createDirectories(root);
        String base = "http://" + registry + "/v2/" + repository;
        HttpResponse<String> manifestResponse = send(HttpRequest.newBuilder(URI.create(base + "/manifests/" + tag))
                .header("Accept", ACCEPT).GET(), HttpResponse.BodyHandlers.ofString());
        JsonNode manifest = JSON.readTree(manifestResponse.body());
        String digest = manifestResponse.headers().firstValue("Docker-Content-Digest").orElse("");
        JsonNode config = JSON.readTree(send(HttpRequest.newBuilder(URI.create(base + "/blobs/" + manifest.path(
                "config").path("digest").asText())).GET(), HttpResponse.BodyHandlers.ofString()).body()).path("config");
        Path blobs = Files.createDirectories(root.resolveSibling(root.getFileName() + ".layers"));
        try {
            for (JsonNode layer : manifest.path("layers")) {
                String layerDigest = layer.path("digest").asText();
                Path blob = blobs.resolve(layerDigest.replace(':', '-'));
                download(URI.create(base + "/blobs/" + layerDigest), layerDigest, blob);
                extract(blob, root, layer.path("mediaType").asText());
                Files.delete(blob);
            }
        } finally {
            Files.deleteIfExists(blobs);
        }
        Config result = new Config(strings(config.path("Entrypoint")), strings(config.path("Cmd")), config.path(
                "WorkingDir").asText("/"), config.path("User").asText(""), env(config.path("Env")), digest);
        JSON.writeValue(configFile(root).toFile(), result);
        return result;
    }

    /** The config of an image {@link #unpack unpacked} into {@code root} before. */
    static Config unpackedConfig(Path root) throws IOException {
        return JSON.readValue(configFile(root).toFile(), Config.class);
    }

    private static Path configFile(Path root) {
        return root.resolveSibling(root.getFileName() + ".config.json");
    }

    private static void download(URI uri, String digest, Path file) throws IOException {
        HttpResponse<InputStream> response = send(HttpRequest.newBuilder(uri).GET(), HttpResponse.BodyHandlers
                .ofInputStream());
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by the Java platform", e);
        }
        try (InputStream in = response.body();
                OutputStream out = new DigestOutputStream(Files.newOutputStream(file),
                        sha)) {
            in.transferTo(out);
        }
        String actual = "sha256:" + HexFormat.of().formatHex(sha.digest());
        if (!actual.equals(digest)) {
            throw new IllegalStateException("layer " + digest + " from " + uri + " has digest " + actual);
        }
    }

    private static void extract(Path blob, Path root, String mediaType) throws IOException {
        List<String> tar = new ArrayList<>(List.of("tar", "--extract", "--file", blob.toString(), "--directory", root
                .toString(), "--same-owner", "--same-permissions", "--numeric-owner"));
        if (mediaType.endsWith("gzip")) {
            tar.add("--gzip");
        }
        run(tar);
        try (var found = Files.find(root, Integer.MAX_VALUE, (p, a) -> p.getFileName() != null && p.getFileName()
                .toString().startsWith(".wh."))) {
            found.findFirst().ifPresent(p -> {
                throw new IllegalStateException("layer " + blob.getFileName() + " deletes files (" + root.relativize(p)
                        + "): whiteouts are not supported");
            });
        }
    }

    static void run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed (" + p.exitValue() + "): " + out
                        .strip());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command.get(0), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + String.join(" ", command), e);
        }
    }

    private static <T> HttpResponse<T> send(HttpRequest.Builder request, HttpResponse.BodyHandler<T> body)
            throws IOException {
        try {
            HttpResponse<T> response = HTTP.send(request.timeout(Duration.ofMinutes(2)).build(), body);
            if (response.statusCode() != 200) {
                throw new IllegalStateException("registry answered " + response.statusCode() + " to " + response
                        .request().uri());
            }
            return response;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while pulling from the registry", e);
        }
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(v -> values.add(v.asText()));
        return List.copyOf(values);
    }

    private static Map<String, String> env(JsonNode array) {
        Map<String, String> env = new LinkedHashMap<>();
        array.forEach(v -> {
            String entry = v.asText();
            int eq = entry.indexOf('=');
            env.put(eq < 0 ? entry : entry.substring(0, eq), eq < 0 ? "" : entry.substring(eq + 1));
        });
        return env;
    }
}
