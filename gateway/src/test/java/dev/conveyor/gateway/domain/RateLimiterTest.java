package dev.conveyor.gateway.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class RateLimiterTest {

    final AtomicLong now = new AtomicLong(1_000);
    final RateLimiter limiter = new RateLimiter(3, Duration.ofMinutes(1), now::get);

    @Test
    void aBurstOfRequestsThenOneEachRefillWithTheWaitToldBack() {
        for (int i = 0; i < 3; i++) {
            assertThat(limiter.acquire("10.0.0.1")).isEmpty();
        }
        assertThat(limiter.acquire("10.0.0.1")).hasValue(Duration.ofSeconds(20));
        now.addAndGet(Duration.ofSeconds(15).toNanos());
        assertThat(limiter.acquire("10.0.0.1")).hasValue(Duration.ofSeconds(5));
        now.addAndGet(Duration.ofSeconds(5).toNanos());
        assertThat(limiter.acquire("10.0.0.1")).isEmpty();
        assertThat(limiter.acquire("10.0.0.1")).isPresent();
    }

    @Test
    void eachSourceHasItsOwnAllowanceAndAnIdleOneIsFullAgain() {
        for (int i = 0; i < 3; i++) {
            limiter.acquire("a");
        }
        assertThat(limiter.acquire("a")).isPresent();
        assertThat(limiter.acquire("b")).isEmpty();
        now.addAndGet(Duration.ofHours(1).toNanos());
        for (int i = 0; i < 3; i++) {
            assertThat(limiter.acquire("a")).isEmpty();
        }
        assertThat(limiter.acquire("a")).isPresent();
    }
}
