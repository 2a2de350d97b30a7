package dev.conveyor.gateway.domain;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * A token bucket per source: {@code requests} per {@code period}, refilled evenly, so a source may send a burst of
 * {@code requests} and then one request every {@code period / requests}. Sources are a token's name or a client
 * address; at most {@link #MAX_SOURCES} are remembered (the least recently seen is forgotten, which only ever lets a
 * source through sooner).
 */
public final class RateLimiter {

    /** How many sources are tracked at once. */
    public static final int MAX_SOURCES = 10_000;

    private final double capacity;
    private final double nanosPerToken;
    private final LongSupplier nanoTime;
    private final Map<String, Bucket> buckets = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
            return size() > MAX_SOURCES;
        }
    };

    /**
     * @param requests how many requests a source may make per period (at least 1)
     * @param period the period
     * @param nanoTime a monotonic clock ({@code System::nanoTime})
     */
    public RateLimiter(int requests, Duration period, LongSupplier nanoTime) {
        if (requests < 1 || period.isZero() || period.isNegative()) {
            throw new IllegalArgumentException("a rate limit needs at least 1 request per positive period");
        }
        this.capacity = requests;
        this.nanosPerToken = (double) period.toNanos() / requests;
        this.nanoTime = nanoTime;
    }

    /**
     * Takes one request from {@code source}'s allowance.
     *
     * @return empty when the request may go ahead, otherwise how long until the source may try again
     */
    public synchronized Optional<Duration> acquire(String source) {
        long now = nanoTime.getAsLong();
        Bucket bucket = buckets.computeIfAbsent(source, s -> new Bucket(capacity, now));
        bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.updated) / nanosPerToken);
        bucket.updated = now;
        if (bucket.tokens >= 1) {
            bucket.tokens -= 1;
            return Optional.empty();
        }
        return Optional.of(Duration.ofNanos((long) Math.ceil((1 - bucket.tokens) * nanosPerToken)));
    }

    private static final class Bucket {
        double tokens;
        long updated;

        Bucket(double tokens, long updated) {
            this.tokens = tokens;
            this.updated = updated;
        }
    }
}
