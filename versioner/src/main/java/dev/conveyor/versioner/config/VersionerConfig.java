package dev.conveyor.versioner.config;

import java.nio.file.Path;

import dev.conveyor.stage.config.RetryConfig;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** The versioner's settings ({@code conveyor.versioner.*}); git credentials are under {@code conveyor.git.*}. */
@ConfigMapping(prefix = "conveyor.versioner")
public interface VersionerConfig {

    /** Where the bare mirrors of app repositories are kept; fetched, never re-cloned. Use a persistent volume. */
    @WithDefault("/var/lib/conveyor/versioner/mirrors")
    Path mirrorDir();

    /** Tag prefix of apps that do not set one in {@code .conveyor.yaml}. */
    @WithDefault("v")
    String tagPrefix();

    /** First version of an app without tags. */
    @WithDefault("0.1.0")
    String initialVersion();

    /** Identity of the annotated tags the versioner creates. */
    Tagger tagger();

    /** Retries of transient failures (network, a tag race that keeps losing). */
    RetryConfig retry();

    /** How often a tag push that lost a race against another tagger is recomputed and retried. */
    @WithDefault("5")
    int tagPushAttempts();

    interface Tagger {
        @WithDefault("Conveyor")
        String name();

        @WithDefault("conveyor@conveyor.dev")
        String email();
    }
}
