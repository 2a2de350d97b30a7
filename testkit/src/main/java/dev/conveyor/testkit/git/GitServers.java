package dev.conveyor.testkit.git;

import java.util.Optional;

/**
 * A repository root with the servers that expose it: always {@code file://} and a git daemon, optionally sshd. Usable
 * from plain JUnit ({@code try (GitServers git = GitServers.start(true))}) and injected by {@link GitServerResource}.
 */
public final class GitServers implements AutoCloseable {

    private final GitRepos repos;
    private final GitDaemonServer daemon;
    private final SshGitServer ssh;

    private GitServers(GitRepos repos, GitDaemonServer daemon, SshGitServer ssh) {
        this.repos = repos;
        this.daemon = daemon;
        this.ssh = ssh;
    }

    /** Creates a fresh repository root and starts the daemon on it, plus sshd when {@code withSsh}. */
    public static GitServers start(boolean withSsh) {
        GitRepos repos = new GitRepos();
        GitDaemonServer daemon = null;
        try {
            daemon = GitDaemonServer.start(repos.root());
            SshGitServer ssh = withSsh ? SshGitServer.start() : null;
            return new GitServers(repos, daemon, ssh);
        } catch (RuntimeException e) {
            if (daemon != null) {
                daemon.close();
            }
            repos.close();
            throw e;
        }
    }

    /** The bare repositories (also reachable as {@code file://}). */
    public GitRepos repos() {
        return repos;
    }

    /** The git:// daemon serving {@link #repos()}. */
    public GitDaemonServer daemon() {
        return daemon;
    }

    /**
     * The SSH server.
     *
     * @throws IllegalStateException if started without SSH
     */
    public SshGitServer ssh() {
        return sshIfStarted().orElseThrow(() -> new IllegalStateException(
                "the SSH git server was not started; use GitServers.start(true) or the resource init arg ssh=true"));
    }

    /** The SSH server, if started. */
    public Optional<SshGitServer> sshIfStarted() {
        return Optional.ofNullable(ssh);
    }

    /** Stops the servers, then deletes the repositories. Each step runs even if an earlier one fails. */
    @Override
    public void close() {
        try {
            if (ssh != null) {
                ssh.close();
            }
        } finally {
            try {
                daemon.close();
            } finally {
                repos.close();
            }
        }
    }
}
