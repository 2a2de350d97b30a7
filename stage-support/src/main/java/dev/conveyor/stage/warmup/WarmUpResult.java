package dev.conveyor.stage.warmup;

import java.time.Duration;
import java.util.Optional;

/**
 * What a warm-up did.
 *
 * @param outcome done, failed or skipped (turned off, or no warm-up in the service)
 * @param took how long the warm-up took (zero when skipped)
 * @param failure the failure's class and message when it failed
 */
public record WarmUpResult(Outcome outcome, Duration took, Optional<String> failure) {

    /** How a warm-up ended. */
    public enum Outcome {
        DONE, FAILED, SKIPPED
    }

    static WarmUpResult skipped() {
        return new WarmUpResult(Outcome.SKIPPED, Duration.ZERO, Optional.empty());
    }
}
