package dev.conveyor.testkit.registry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.bouncycastle.crypto.generators.OpenBSDBCrypt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.conveyor.testkit.Binaries;
import dev.conveyor.testkit.Ports;
import dev.conveyor.testkit.ServerProcesses;
import dev.conveyor.testkit.TempDirs;

/**
 * A real OCI distribution registry: Debian's {@code docker-registry} (CNCF distribution 2.x) run as a child process on
 * a free loopback port, plain HTTP, filesystem storage in a unique temporary directory, deletes enabled.
 *
 * <p>
 * Clients must treat it as an insecure registry ({@code --tls-verify=false} for skopeo,
 * {@code setAllowInsecureRegistries(true)} for Jib). The process writes its output to {@code registry-<attempt>.log}
 * ({@link #logFile()}) in the temporary directory; failures include its tail. {@link #close()} stops the process and
 * its descendants and removes all stored images.
 */
public final class OciRegistry implements AutoCloseable {

    /** Accept header that lets the registry answer with any manifest kind we push (OCI or Docker, single or index). */
    public static final String MANIFEST_ACCEPT = String.join(",", "application/vnd.oci.image.index.v1+json",
            "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.docker.distribution.manifest.v2+json");

    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    private static final int START_ATTEMPTS = 3;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path root;
    private final Process process;
    private final int port;
    private final Path log;
    private final Optional<Credentials> credentials;
    private final HttpClient http;
    /** Stops the registry if the test JVM exits without closing it, so no registry outlives its tests. */
    private final Thread shutdownHook;

    private OciRegistry(Path root, Process process, int port, Path log, Optional<Credentials> credentials,
            HttpClient http) {
        this.root = root;
        this.process = process;
        this.port = port;
        this.log = log;
        this.credentials = credentials;
        this.http = http;
        this.shutdownHook = new Thread(process::destroy, "registry-shutdown-" + port);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** User name and password of a registry started with {@link #startWithBasicAuth(String, String)}. */
    public record Credentials(String user, String password) {

        /** Validates that neither part is missing; a ':' in the user would break the htpasswd line. */
        public Credentials {
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(password, "password");
            if (user.isEmpty() || user.contains(":")) {
                throw new IllegalArgumentException("registry user must be non-empty and contain no ':'");
            }
        }
    }

    /** Starts a registry without authentication and waits until {@code GET /v2/} answers 200. */
    public static OciRegistry start() {
        return start(Optional.empty());
    }

    /**
     * Starts a registry that demands HTTP basic authentication (htpasswd, bcrypt) for every request. {@code GET /v2/}
     * answers 401 without credentials; the HTTP helpers of this class send them.
     */
    public static OciRegistry startWithBasicAuth(String user, String password) {
        return start(Optional.of(new Credentials(user, password)));
    }

    private static OciRegistry start(Optional<Credentials> credentials) {
        Path binary = Binaries.require("docker-registry", "docker-registry");
        Path root = TempDirs.create("registry");
        HttpClient http = HttpClient.newBuilder().connectTimeout(REQUEST_TIMEOUT).build();
        // Another JVM may grab the free port between Ports.free() and the registry's bind: retry with a new one.
        return ServerProcesses.startOnFreePort(root, START_ATTEMPTS, attempt -> {
            int port = Ports.free();
            Path log = root.resolve("registry-" + attempt + ".log");
            return new OciRegistry(root, launch(binary, root, port, log, credentials), port, log, credentials, http);
        }, OciRegistry::awaitReady, OciRegistry::stopProcess, OciRegistry::logTail);
    }

    private static Process launch(Path binary, Path root, int port, Path log, Optional<Credentials> credentials) {
        try {
            Path configFile = writeConfig(root, port, credentials);
            ProcessBuilder builder = new ProcessBuilder(binary.toString(), "serve", configFile.toString())
                    .directory(root.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
            // distribution lets REGISTRY_* variables override the file; a developer's shell must not change our setup.
            builder.environment().keySet().removeIf(name -> name.startsWith("REGISTRY_"));
            return builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start docker-registry", e);
        }
    }

    /**
     * Prepares a registry that someone else runs and supervises (the local stack starts it detached and restarts it
     * after a crash): no authentication, storage in {@code <root>/storage}, which is kept, so a registry restarted on
     * the same root serves every image pushed before. Unlike {@link #start()}, nothing is deleted by anyone but the
     * caller.
     *
     * @return the command that serves the registry on {@code 127.0.0.1:<port>}; run it with no {@code REGISTRY_*}
     *     variables in its environment (they would override the configuration)
     */
    public static List<String> prepareServe(Path root, int port) {
        Path binary = Binaries.require("docker-registry", "docker-registry");
        try {
            Files.createDirectories(root);
            return List.of(binary.toString(), "serve", writeConfig(root, port, Optional.empty()).toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare docker-registry in " + root, e);
        }
    }

    private static Path writeConfig(Path root, int port, Optional<Credentials> credentials) throws IOException {
        Path storage = Files.createDirectories(root.resolve("storage"));
        StringBuilder config = new StringBuilder();
        config.append("version: 0.1\n");
        config.append("log:\n  level: warn\n  accesslog:\n    disabled: true\n");
        config.append("storage:\n  filesystem:\n    rootdirectory: ").append(quoted(storage)).append('\n');
        config.append("  delete:\n    enabled: true\n");
        config.append("http:\n  addr: 127.0.0.1:").append(port).append('\n');
        if (credentials.isPresent()) {
            Path htpasswd = root.resolve("htpasswd");
            Files.writeString(htpasswd, htpasswdLine(credentials.get()));
            config.append("auth:\n  htpasswd:\n    realm: conveyor-testkit\n    path: ").append(quoted(htpasswd))
                    .append('\n');
        }
        Path configFile = root.resolve("config-" + port + ".yml");
        Files.writeString(configFile, config.toString());
        return configFile;
    }

    private static String quoted(Path path) {
        return "'" + path.toAbsolutePath().toString().replace("'", "''") + "'";
    }

    private static String htpasswdLine(Credentials credentials) {
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        // Cost 4 (the minimum) because the registry checks the hash on every request and tests make many.
        String hash = OpenBSDBCrypt.generate("2y", credentials.password().toCharArray(), salt, 4);
        return credentials.user() + ":" + hash + "\n";
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        int expected = credentials.isPresent() ? 401 : 200;
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException("docker-registry exited with code " + process.exitValue()
                        + " before answering on " + url() + ". Log tail:\n" + logTail());
            }
            try {
                HttpResponse<Void> response = http.send(
                        HttpRequest.newBuilder(URI.create(url() + "/v2/")).timeout(Duration.ofSeconds(2)).GET().build(),
                        HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == expected) {
                    return;
                }
            } catch (IOException e) {
                // Not listening yet.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for docker-registry", e);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("docker-registry did not answer GET /v2/ with " + expected + " within "
                        + START_TIMEOUT + " on " + url() + ". Log tail:\n" + logTail());
            }
            // Polling a local port: waiting on the process for a moment paces the loop and notices an early exit.
            try {
                process.waitFor(50, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for docker-registry", e);
            }
        }
    }

    /** {@code 127.0.0.1:<port>}, the registry part of image references. */
    public String host() {
        return "127.0.0.1:" + port;
    }

    /** {@code http://127.0.0.1:<port>}. */
    public String url() {
        return "http://" + host();
    }

    /** The loopback port the registry listens on. */
    public int port() {
        return port;
    }

    /** The credentials the registry demands, empty when it was started without authentication. */
    public Optional<Credentials> credentials() {
        return credentials;
    }

    /** The registry's log file (stdout and stderr of the process). */
    public Path logFile() {
        return log;
    }

    /** The tags of a repository, empty if the repository does not exist. */
    public List<String> tags(String repository) {
        HttpResponse<String> response = send(request("/v2/" + repository + "/tags/list").GET());
        if (response.statusCode() == 404) {
            return List.of();
        }
        expectOk(response, "list tags of " + repository);
        try {
            JsonNode tags = JSON.readTree(response.body()).path("tags");
            List<String> result = new ArrayList<>();
            tags.forEach(tag -> result.add(tag.asText()));
            return List.copyOf(result);
        } catch (IOException e) {
            throw new IllegalStateException("registry answered tags of " + repository + " with invalid JSON: "
                    + response.body(), e);
        }
    }

    /**
     * The {@code Docker-Content-Digest} of a manifest, by tag or digest, or empty if the registry does not have it.
     */
    public Optional<String> manifestDigest(String repository, String reference) {
        HttpResponse<String> response = send(
                request(manifestPath(repository, reference)).header("Accept", MANIFEST_ACCEPT).method("HEAD",
                        HttpRequest.BodyPublishers.noBody()));
        if (response.statusCode() == 404) {
            return Optional.empty();
        }
        expectOk(response, "HEAD manifest " + repository + ":" + reference);
        return response.headers().firstValue("Docker-Content-Digest");
    }

    /** The manifest JSON of a tag or digest, exactly as the registry serves it. */
    public String manifest(String repository, String reference) {
        HttpResponse<String> response = send(
                request(manifestPath(repository, reference)).header("Accept", MANIFEST_ACCEPT).GET());
        expectOk(response, "GET manifest " + repository + ":" + reference);
        return response.body();
    }

    private static String manifestPath(String repository, String reference) {
        return "/v2/" + repository + "/manifests/" + URLEncoder.encode(reference, StandardCharsets.UTF_8);
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(url() + path)).timeout(REQUEST_TIMEOUT);
        credentials.ifPresent(c -> builder.header("Authorization", "Basic " + Base64.getEncoder()
                .encodeToString((c.user() + ":" + c.password()).getBytes(StandardCharsets.UTF_8))));
        return builder;
    }

    private HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException("registry " + url() + " did not answer. Log tail:\n" + logTail(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while talking to the registry", e);
        }
    }

    private void expectOk(HttpResponse<String> response, String what) {
        if (response.statusCode() != 200) {
            throw new IllegalStateException("registry could not " + what + ": HTTP " + response.statusCode() + " "
                    + response.body() + "\nLog tail:\n" + logTail());
        }
    }

    /** The last lines of the registry's log, for failure messages. */
    public String logTail() {
        return ServerProcesses.logTail(log, 40);
    }

    private void stopProcess() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // The JVM is already shutting down; the hook runs anyway.
        }
        ServerProcesses.stop(process, STOP_TIMEOUT);
    }

    /** Stops the registry process and deletes its storage. */
    @Override
    public void close() {
        try {
            stopProcess();
        } finally {
            TempDirs.deleteQuietly(root);
        }
    }
}
