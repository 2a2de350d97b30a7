package dev.conveyor.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntFunction;

/** What every external server process of the testkit (registry, Prometheus, broker) needs: start, stop, log. */
public final class ServerProcesses {

    private ServerProcesses() {
    }

    /**
     * Starts an external server on a port from {@link Ports#free()}: another process may bind that port first, so a
     * start whose log says "address already in use" is retried on a new port; any other failure is final. The
     * server's directory is deleted when no attempt succeeds.
     *
     * @param root the server's directory, deleted on failure
     * @param attempts how many ports to try
     * @param launch starts attempt {@code n} (1-based) on a fresh free port
     * @param awaitReady throws {@link IllegalStateException} when the server does not come up
     * @param stop stops a server that did not come up
     * @param logTail the end of the server's log
     */
    public static <T> T startOnFreePort(Path root, int attempts, IntFunction<T> launch, Consumer<T> awaitReady,
            Consumer<T> stop,
            Function<T, String> logTail) {
        IllegalStateException failure = null;
        try {
            for (int attempt = 1; attempt <= attempts; attempt++) {
                T server = launch.apply(attempt);
                try {
                    awaitReady.accept(server);
                    return server;
                } catch (IllegalStateException e) {
                    stop.accept(server);
                    failure = e;
                    if (!logTail.apply(server).contains("address already in use")) {
                        break;
                    }
                }
            }
        } catch (RuntimeException e) {
            TempDirs.deleteQuietly(root);
            throw e;
        }
        TempDirs.deleteQuietly(root);
        throw failure;
    }

    /**
     * Stops a process and its children: politely, then forcibly after {@code timeout}.
     */
    public static void stop(Process process, Duration timeout) {
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** The last {@code lines} lines of a log file, or a note saying why there are none. */
    public static String logTail(Path log, int lines) {
        try {
            if (!Files.exists(log)) {
                return "(no log at " + log + ")";
            }
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(log " + log + " unreadable: " + e.getMessage() + ")";
        }
    }
}
