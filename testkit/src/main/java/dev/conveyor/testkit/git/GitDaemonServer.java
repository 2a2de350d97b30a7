package dev.conveyor.testkit.git;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;

import org.eclipse.jgit.transport.Daemon;
import org.eclipse.jgit.transport.DaemonClient;

import dev.conveyor.testkit.Ports;

/**
 * JGit's in-process git daemon on {@code 127.0.0.1:<free port>}, serving the bare repositories under one root directory
 * (typically {@link GitRepos#root()}). Every repository is exported and receive-pack is enabled, so clients can push
 * over {@code git://} — unauthenticated, which is fine for loopback tests and the local stack only.
 */
public final class GitDaemonServer implements AutoCloseable {

    private static final String LOOPBACK = "127.0.0.1";
    private static final int BIND_ATTEMPTS = 5;

    private final Daemon daemon;
    private final Path root;
    private final int port;

    private GitDaemonServer(Daemon daemon, Path root, int port) {
        this.daemon = daemon;
        this.root = root;
        this.port = port;
    }

    /**
     * Starts a daemon serving {@code root}. Returns once the listening socket is bound, so clients can connect
     * immediately.
     */
    public static GitDaemonServer start(Path root) {
        RootRepositoryResolver<DaemonClient> resolver = new RootRepositoryResolver<>(root);
        IOException last = null;
        // Ports.free() can race with another JVM grabbing the same port; a fresh port on bind failure fixes that.
        for (int attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
            int port = Ports.free();
            Daemon daemon;
            try {
                daemon = new Daemon(new InetSocketAddress(InetAddress.getByName(LOOPBACK), port));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            daemon.setRepositoryResolver(resolver);
            daemon.getService("git-upload-pack").setEnabled(true);
            daemon.getService("git-receive-pack").setEnabled(true);
            // Idle clients must not pin daemon threads forever in long local-stack sessions.
            daemon.setTimeout(60);
            try {
                daemon.start();
                return new GitDaemonServer(daemon, root, port);
            } catch (BindException e) {
                last = e;
            } catch (IOException e) {
                throw new UncheckedIOException("git daemon did not start on " + LOOPBACK + ":" + port, e);
            }
        }
        throw new UncheckedIOException("git daemon found no free port after " + BIND_ATTEMPTS + " attempts", last);
    }

    /** The TCP port on 127.0.0.1. */
    public int port() {
        return port;
    }

    /** The directory whose repositories are served. */
    public Path root() {
        return root;
    }

    /** {@code git://127.0.0.1:<port>/} — append {@code <name>.git}. */
    public String baseUrl() {
        return "git://" + LOOPBACK + ":" + port + "/";
    }

    /** {@code git://127.0.0.1:<port>/<name>.git}. */
    public String url(String repoName) {
        return baseUrl() + GitRepos.plainName(repoName) + ".git";
    }

    /** The URL of a {@link BareRepo} under this daemon's root. */
    public String url(BareRepo repo) {
        return url(repo.name());
    }

    /** Stops accepting connections and waits until the listening socket is closed. */
    @Override
    public void close() {
        try {
            daemon.stopAndWait();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            daemon.stop();
        }
    }
}
