package dev.conveyor.stage;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Bounded exponential backoff with full jitter for transient failures.
 *
 * @param maxAttempts attempts in all, the first included; 1 means no retry
 * @param initialDelay delay ceiling before the second attempt
 * @param maxDelay upper bound of any delay
 */
public record Backoff(int maxAttempts, Duration initialDelay, Duration maxDelay) {

    public Backoff {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1 but was " + maxAttempts);
        }
        if (initialDelay.isNegative() || maxDelay.compareTo(initialDelay) < 0) {
            throw new IllegalArgumentException("delays must satisfy 0 <= initialDelay <= maxDelay");
        }
    }

    /** Five attempts, 200 ms doubling up to 10 s: about 3 s of retrying in the typical case. */
    public static Backoff defaults() {
        return new Backoff(5, Duration.ofMillis(200), Duration.ofSeconds(10));
    }

    /** No retry at all. */
    public static Backoff none() {
        return new Backoff(1, Duration.ZERO, Duration.ZERO);
    }

    /** The delay before attempt {@code attempt + 1}, having failed {@code attempt} times (1-based). */
    public Duration delayAfter(int attempt) {
        long ceiling = initialDelay.toMillis() << Math.min(attempt - 1, 20);
        long capped = Math.min(Math.max(ceiling, 0), maxDelay.toMillis());
        return Duration.ofMillis(capped == 0 ? 0 : ThreadLocalRandom.current().nextLong(capped / 2, capped + 1));
    }
}
