package dev.conveyor.stage.git;

import java.io.IOException;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.transport.RemoteRefUpdate;
import org.jboss.logging.Logger;

import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.StageRunner;

/**
 * Rule "git pushes race": a push to a shared branch or tag namespace that loses to another writer (non-fast-forward,
 * the ref changed, the ref was locked) is not an error. Each round fetches the remote into its mirror (under the
 * mirror's lock), lets the caller apply its change on what it finds and push without force; a lost round pauses with
 * {@link Backoff} and starts again from a fresh fetch, until a round wins or the rounds run out (then a transient
 * {@link StageException}, so the stage runner may try the whole event again).
 */
public final class PushRace {

    /** Fetches a remote into its mirror and opens it; {@link RepoMirrors#fetch(String)} unless told otherwise. */
    @FunctionalInterface
    public interface Fetch {
        Repository fetch(String url);
    }

    /**
     * One round on a freshly fetched mirror: apply the change and push it.
     *
     * @return the result when the push won (or nothing needed pushing), empty when it lost a race
     */
    @FunctionalInterface
    public interface Round<T> {
        Optional<T> run(Repository fresh, int round) throws IOException;
    }

    private static final Logger LOG = Logger.getLogger(PushRace.class);

    private final RepoMirrors mirrors;
    private final Fetch fetch;
    private final Backoff rounds;
    private final StageRunner.Sleeper sleeper;

    /** @param rounds the number of rounds and the pauses between them */
    public PushRace(RepoMirrors mirrors, Backoff rounds) {
        this(mirrors, mirrors::fetch, rounds, d -> Thread.sleep(d.toMillis()));
    }

    /**
     * @param fetch how a round gets its fresh mirror (a test's fetch can let another writer in right after it)
     * @param sleeper how a round waits before the next one
     */
    public PushRace(RepoMirrors mirrors, Fetch fetch, Backoff rounds, StageRunner.Sleeper sleeper) {
        this.mirrors = mirrors;
        this.fetch = fetch;
        this.rounds = rounds;
        this.sleeper = sleeper;
    }

    /**
     * Runs rounds of fetch, apply and push on {@code url} until one wins.
     *
     * @param reason the reason code of the transient failure when every round lost
     * @param what what is pushed, for logs and that failure's message (e.g. {@code "tag v1.2.0"})
     */
    public <T> T push(String url, Enum<?> reason, String what, Round<T> round) {
        for (int n = 1;; n++) {
            ReentrantLock lock = mirrors.lock(url);
            lock.lock();
            try (Repository repo = fetch.fetch(url)) {
                Optional<T> won = round.run(repo, n);
                if (won.isPresent()) {
                    return won.get();
                }
            } catch (IOException e) {
                throw GitFailure.classify(e, url);
            } finally {
                lock.unlock();
            }
            if (n >= rounds.maxAttempts()) {
                throw StageException.transientFailure(reason, "the push of " + what + " to " + GitUrls.redact(url)
                        + " kept losing races to other writers after " + n + " rounds", null);
            }
            Duration pause = rounds.delayAfter(n);
            LOG.infof("push of %s to %s lost a race (round %d of %d); fetching and re-applying in %d ms", what,
                    GitUrls.redact(url), n, rounds.maxAttempts(), pause.toMillis());
            try {
                sleeper.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw StageException.transientFailure(reason, "interrupted while retrying the push of " + what, e);
            }
        }
    }

    /**
     * Whether a refused ref update lost a race (another writer moved the ref, or held its lock) rather than being
     * denied by a rule of the remote. Servers also answer races with "fetch first" or "failed to lock".
     */
    public static boolean lostRace(RemoteRefUpdate update) {
        return switch (update.getStatus()) {
            case REJECTED_NONFASTFORWARD, REJECTED_REMOTE_CHANGED -> true;
            case REJECTED_OTHER_REASON -> {
                String said = update.getMessage() == null ? "" : update.getMessage().toLowerCase(Locale.ROOT);
                yield said.contains("fetch first") || said.contains("lock") || said.contains("non-fast-forward");
            }
            default -> false;
        };
    }
}
