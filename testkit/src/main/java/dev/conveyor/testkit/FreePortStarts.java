package dev.conveyor.testkit;

import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * Starting an external server on a port from {@link Ports#free()}: another process may bind that port first, so a
 * start whose log says "address already in use" is retried on a new port; any other failure is final. The server's
 * directory is deleted when no attempt succeeds.
 */
public final class FreePortStarts {

    private FreePortStarts() {
    }

    /**
     * @param root the server's directory, deleted on failure
     * @param attempts how many ports to try
     * @param launch starts attempt {@code n} (1-based) on a fresh free port
     * @param awaitReady throws {@link IllegalStateException} when the server does not come up
     * @param stop stops a server that did not come up
     * @param logTail the end of the server's log
     */
    public static <T> T start(Path root, int attempts, IntFunction<T> launch, Consumer<T> awaitReady, Consumer<T> stop,
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
}
