package dev.conveyor.stage.warmup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

import org.jboss.logging.Logger;

import dev.conveyor.stage.git.GitUrls;

/**
 * Runs warm-ups on the calling thread, each in a fresh temporary directory that is deleted afterwards on every path,
 * and turns whatever they throw into a {@link WarmUpResult}: nothing escapes. A plain class; {@link WarmUpStarter}
 * runs it after start-up.
 */
public final class WarmUps {

    private static final Logger LOG = Logger.getLogger(WarmUps.class);

    private final Path tempRoot;

    /** @param tempRoot where the scratch directories are made (the JVM's temporary directory in a service) */
    public WarmUps(Path tempRoot) {
        this.tempRoot = tempRoot;
    }

    /** Runs every warm-up in turn; the first failure ends the round and is reported (and logged), never thrown. */
    public WarmUpResult run(String stage, Collection<? extends WarmUp> warmUps) {
        long start = System.nanoTime();
        try {
            for (WarmUp warmUp : warmUps) {
                Path scratch = Files.createTempDirectory(tempRoot, "conveyor-warm-up-");
                try {
                    warmUp.run(scratch);
                } finally {
                    delete(scratch);
                }
            }
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            LOG.infof("[%s] warm-up done in %d ms", stage, took.toMillis());
            return new WarmUpResult(WarmUpResult.Outcome.DONE, took, Optional.empty());
        } catch (Exception | LinkageError e) {
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            // The warm-up dials nothing configured, but its messages pass through the redaction all the same.
            String failure = e.getClass().getSimpleName() + ": " + GitUrls.scrub(String.valueOf(e
                    .getMessage()));
            LOG.warnf("[%s] warm-up failed after %d ms, ignored (the first run pays for it): %s", stage, took
                    .toMillis(), failure);
            return new WarmUpResult(WarmUpResult.Outcome.FAILED, took, Optional.of(failure));
        }
    }

    static void delete(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
