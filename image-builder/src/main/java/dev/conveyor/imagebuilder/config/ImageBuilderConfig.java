package dev.conveyor.imagebuilder.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.conveyor.stage.Backoff;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * The image builder's settings ({@code conveyor.image-builder.*}); git credentials for reading {@code .conveyor.yaml}
 * are under {@code conveyor.git.*}. Mount passwords and tokens from a Kubernetes Secret; they are never logged.
 */
@ConfigMapping(prefix = "conveyor.image-builder")
public interface ImageBuilderConfig {

    /**
     * The registry images are pushed to: {@code docker.io}, {@code ghcr.io}, {@code registry.example.com:5000}; or
     * {@code oci-layout:<absolute directory>} to write them into one OCI image-layout directory instead (no registry).
     */
    @WithDefault("docker.io")
    String registry();

    /** Repository prefix: images go to {@code <registry>/<namespace>/<app>} unless the app sets {@code image.name}. */
    Optional<String> namespace();

    /** Base image of jar apps that do not set {@code image.base}; {@code docker-archive:<tar>} for a local tarball. */
    @WithDefault("eclipse-temurin:17-jre")
    String jarBaseImage();

    /** Base image of directory apps without {@code image.base}; {@code docker-archive:<tar>} for a local tarball. */
    @WithDefault("gcr.io/distroless/static-debian12:nonroot")
    String directoryBaseImage();

    /** Artifact kind when neither the event nor {@code .conveyor.yaml} names one: {@code jar} or {@code directory}. */
    @WithDefault("jar")
    String defaultKind();

    /** Whether CD runs also move the {@code latest} tag. */
    @WithDefault("false")
    boolean pushLatest();

    /** Registries spoken to over plain HTTP ({@code host:port}); every other registry must speak HTTPS. */
    Optional<List<String>> insecureRegistries();

    /**
     * Credentials per registry host, e.g. {@code conveyor.image-builder.registries."docker.io".username}. Used for the
     * target and for base images.
     */
    Map<String, Registry> registries();

    /** Where the bare mirrors of app repositories are kept (to read {@code .conveyor.yaml}). */
    @WithDefault("/var/lib/conveyor/image-builder/mirrors")
    Path mirrorDir();

    /** Jib's base image layer cache (kept between builds) and the per-build work directories (deleted after). */
    @WithDefault("/var/lib/conveyor/image-builder/work")
    Path workDir();

    /** Timeout of one registry API call. */
    @WithDefault("60s")
    Duration registryTimeout();

    /** Fetching the build artifact. */
    Artifact artifact();

    /** Retries of transient failures (registry or artifact server down). */
    Retry retry();

    interface Registry {
        /** User name (Docker Hub: the account; GitHub: any). */
        String username();

        /** Password or access token. */
        String password();
    }

    interface Artifact {
        /** Largest artifact accepted, in bytes. */
        @WithDefault("2147483648")
        long maxBytes();

        /** Largest total size an artifact may unpack to, in bytes (archive bombs). */
        @WithDefault("8589934592")
        long maxUnpackedBytes();

        /** Most files an artifact may unpack to. */
        @WithDefault("200000")
        int maxFiles();

        /** How long one download may take. */
        @WithDefault("10m")
        Duration timeout();

        /** Directories {@code file://} artifacts may come from (the shared volume Jenkins writes to). */
        @WithDefault("/var/lib/conveyor/artifacts")
        List<Path> fileRoots();

        /** Credentials per artifact host ({@code host} or {@code host:port}); sent to that host only. */
        Map<String, HostAuth> auth();
    }

    interface HostAuth {
        /** User name for Basic auth. */
        Optional<String> username();

        /** Password for Basic auth. */
        Optional<String> password();

        /** Bearer token; wins over user name and password. */
        Optional<String> token();
    }

    interface Retry {
        /** Attempts in all, the first included. */
        @WithDefault("5")
        int maxAttempts();

        @WithDefault("500ms")
        Duration initialDelay();

        @WithDefault("30s")
        Duration maxDelay();

        default Backoff backoff() {
            return new Backoff(maxAttempts(), initialDelay(), maxDelay());
        }
    }
}
