package dev.conveyor.notifier.client;

import java.time.Duration;
import java.util.Optional;

/**
 * A call a provider did not take. Transient ones (network, 408, 429, 5xx, Slack {@code ratelimited}) are retried,
 * honouring {@link #retryAfter()}; permanent ones (any other 4xx, a Slack {@code ok:false}) are logged and counted, never
 * retried. The message names the provider, the call and the status, never a token or a webhook URL.
 */
public class DeliveryException extends Exception {

    private final boolean permanent;
    private final int status;
    private final Duration retryAfter;

    public DeliveryException(boolean permanent, int status, Duration retryAfter, String message) {
        super(message);
        this.permanent = permanent;
        this.status = status;
        this.retryAfter = retryAfter;
    }

    public boolean permanent() {
        return permanent;
    }

    /** HTTP status, 0 for a network failure. */
    public int status() {
        return status;
    }

    /** The provider's {@code Retry-After}, when it sent one. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }

    /** A bounded label for metrics: {@code rate_limited}, {@code server_error}, {@code network}, {@code rejected}. */
    public String cause() {
        if (status == 0) {
            return "network";
        }
        if (status == 429) {
            return "rate_limited";
        }
        return permanent ? "rejected" : "server_error";
    }
}
