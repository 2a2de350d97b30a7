package dev.conveyor.stage.config;

import java.time.Duration;

import dev.conveyor.stage.Backoff;
import io.smallrye.config.WithDefault;

/**
 * The {@code retry} group of a stage's configuration ({@code conveyor.<stage>.retry.*}): how transient failures are
 * retried by {@link dev.conveyor.stage.StageRunner}. A stage whose defaults differ declares its own group.
 */
public interface RetryConfig {

    /** Attempts in all, the first included. */
    @WithDefault("5")
    int maxAttempts();

    /** The first pause; it doubles up to {@link #maxDelay()}. */
    @WithDefault("200ms")
    Duration initialDelay();

    @WithDefault("10s")
    Duration maxDelay();

    default Backoff backoff() {
        return new Backoff(maxAttempts(), initialDelay(), maxDelay());
    }
}
