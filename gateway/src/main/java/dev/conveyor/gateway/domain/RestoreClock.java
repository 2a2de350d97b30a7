package dev.conveyor.gateway.domain;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Time to restore, per release: from a release's first {@code ReleaseDegraded} to its next {@code ReleaseHealthy}
 * (any revision: a rollback restores as much as a fix does). Pure: it takes event times and returns durations.
 *
 * <p>
 * The gateway reads its topics in no fixed order while it catches up with the log, so a verdict may arrive after a
 * later one of the other kind. The clock therefore keeps, per release, the time of its latest healthy verdict and
 * every degradation after it; a healthy verdict restores the degradations that happened before it, measured from the
 * earliest one. At most {@link #MAX_OPEN} open degradations are kept per release (the earliest ones, which are the
 * ones measured).
 *
 * <p>
 * Not thread-safe: the read model serialises access.
 */
public final class RestoreClock {

    /** Open degradations kept per release. */
    public static final int MAX_OPEN = 64;

    private final Map<String, State> releases = new HashMap<>();

    /** A release's key: GitOps repository, namespace and name. */
    public static String release(String gitopsRepo, String namespace, String name) {
        return gitopsRepo + "#" + namespace + "/" + name;
    }

    /** Notes that the release was degraded at {@code at}. */
    public void degraded(String release, Instant at) {
        State state = releases.computeIfAbsent(release, k -> new State());
        if (state.lastHealthy != null && !at.isAfter(state.lastHealthy)) {
            return; // already restored by a verdict read earlier
        }
        state.open.add(at);
        if (state.open.size() > MAX_OPEN) {
            state.open.pollLast();
        }
    }

    /**
     * Notes that the release was healthy at {@code at}; returns how long it had been degraded, if it was.
     */
    public Optional<Duration> healthy(String release, Instant at) {
        State state = releases.computeIfAbsent(release, k -> new State());
        if (state.lastHealthy == null || at.isAfter(state.lastHealthy)) {
            state.lastHealthy = at;
        }
        NavigableSet<Instant> restored = state.open.headSet(at, true);
        if (restored.isEmpty()) {
            return Optional.empty();
        }
        Duration down = Duration.between(restored.first(), at);
        restored.clear();
        return Optional.of(down);
    }

    private static final class State {
        Instant lastHealthy;
        final TreeSet<Instant> open = new TreeSet<>();
    }
}
