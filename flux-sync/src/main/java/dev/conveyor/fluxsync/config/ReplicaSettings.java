package dev.conveyor.fluxsync.config;

import java.time.Duration;
import java.util.Optional;
import java.util.UUID;

/**
 * The settings of several replicas ({@code conveyor.flux-sync.replicas.*}), checked: a bad value fails the start with
 * a message naming the key.
 *
 * @param identity this replica's holder identity in the Leases
 * @param leaseDuration how long a Lease stays valid without renewal
 * @param renewPeriod how often Leases are renewed and free ones taken
 * @param handoffPoll how often handed-over work is looked for
 */
public record ReplicaSettings(String identity, Duration leaseDuration, Duration renewPeriod, Duration handoffPoll) {

    static final String PREFIX = "conveyor.flux-sync.replicas.";

    public ReplicaSettings {
        if (identity == null || identity.isBlank()) {
            throw new IllegalArgumentException(PREFIX + "identity must not be blank");
        }
        if (leaseDuration.compareTo(Duration.ofSeconds(1)) < 0 || leaseDuration.toMillis() % 1000 != 0) {
            throw new IllegalArgumentException(PREFIX + "lease-duration must be a whole number of seconds, at least 1s"
                    + " (Lease objects count whole seconds); got " + leaseDuration);
        }
        if (renewPeriod.isNegative() || renewPeriod.isZero() || renewPeriod.compareTo(leaseDuration) >= 0) {
            throw new IllegalArgumentException(PREFIX + "renew-period must be positive and shorter than " + PREFIX
                    + "lease-duration (" + leaseDuration + "); got " + renewPeriod);
        }
        if (handoffPoll.isNegative() || handoffPoll.isZero()) {
            throw new IllegalArgumentException(PREFIX + "handoff-poll must be positive; got " + handoffPoll);
        }
    }

    /**
     * From the configuration; the identity defaults to {@code <hostname>-<pid>} (the pod name in Kubernetes; with the
     * pid, two processes on one machine differ too), else a random one.
     */
    public static ReplicaSettings of(FluxSyncConfig.Replicas config, Optional<String> hostname) {
        String identity = config.identity().or(() -> hostname.filter(h -> !h.isBlank()).map(h -> h + "-"
                + ProcessHandle.current().pid())).orElseGet(() -> "flux-sync-" + UUID.randomUUID().toString()
                        .substring(0, 8));
        return new ReplicaSettings(identity, config.leaseDuration(), config.renewPeriod(), config.handoffPoll());
    }

    /** The worst time until a dead replica's repositories are owned again (before their takeover sync). */
    public Duration takeoverBound() {
        return leaseDuration.plus(renewPeriod);
    }
}
