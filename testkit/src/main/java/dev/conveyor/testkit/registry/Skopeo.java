package dev.conveyor.testkit.registry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.conveyor.testkit.Binaries;
import dev.conveyor.testkit.TempDirs;

/**
 * Inspects images in a registry with the real {@code skopeo} CLI, as an independent check of what Jib or Conveyor
 * pushed. Registries are treated as insecure (plain HTTP); every call is bounded by a timeout so a hung registry fails
 * the test instead of stalling it.
 */
public final class Skopeo {

    /** How long one skopeo call may take. */
    public static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path binary;
    private final Optional<OciRegistry.Credentials> credentials;

    private Skopeo(Path binary, Optional<OciRegistry.Credentials> credentials) {
        this.binary = binary;
        this.credentials = credentials;
    }

    /** A skopeo without credentials; fails clearly if the Debian package is not installed. */
    public static Skopeo create() {
        return new Skopeo(Binaries.require("skopeo", "skopeo"), Optional.empty());
    }

    /** A skopeo that logs in with the credentials of {@code registry}, if it has any. */
    public static Skopeo forRegistry(OciRegistry registry) {
        return new Skopeo(Binaries.require("skopeo", "skopeo"), registry.credentials());
    }

    /** {@code skopeo inspect}: skopeo's summary (Digest, RepoTags, Architecture, Os, Layers, Env, ...) as JSON. */
    public String inspect(String reference) {
        return run(reference);
    }

    /** {@code skopeo inspect --raw}: the manifest exactly as the registry serves it. */
    public String inspectRaw(String reference) {
        return run(reference, "--raw");
    }

    /** {@code skopeo inspect --config}: the image configuration blob (architecture, os, config.User, rootfs, ...). */
    public String inspectConfig(String reference) {
        return run(reference, "--config");
    }

    /** Parses JSON printed by one of the inspect methods. */
    public static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new IllegalStateException("skopeo printed invalid JSON: " + json, e);
        }
    }

    private String run(String reference, String... flags) {
        List<String> command = new ArrayList<>(List.of(binary.toString(), "inspect", "--tls-verify=false"));
        command.addAll(List.of(flags));
        credentials.ifPresent(c -> command.add("--creds=" + c.user() + ":" + c.password()));
        command.add("docker://" + reference);
        // Output goes to files, not pipes, so a chatty skopeo can never block on a full pipe while we wait for it.
        Path work = TempDirs.create("skopeo");
        try {
            Path out = work.resolve("stdout");
            Path err = work.resolve("stderr");
            ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            // Keep skopeo away from the developer's own registry logins and its shared blob info cache.
            builder.environment().put("REGISTRY_AUTH_FILE", work.resolve("auth.json").toString());
            builder.environment().put("HOME", work.toString());
            Process process = builder.start();
            if (!process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new IllegalStateException("skopeo inspect " + reference + " did not finish within " + TIMEOUT
                        + ". stderr:\n" + Files.readString(err, StandardCharsets.UTF_8));
            }
            if (process.exitValue() != 0) {
                throw new IllegalStateException("skopeo inspect " + String.join(" ", flags) + " " + reference
                        + " failed with exit code " + process.exitValue() + ". stderr:\n"
                        + Files.readString(err, StandardCharsets.UTF_8));
            }
            return Files.readString(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run skopeo", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running skopeo", e);
        } finally {
            TempDirs.deleteQuietly(work);
        }
    }
}
