package dev.conveyor.testkit.git;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.eclipse.jgit.api.TransportConfigCallback;
import org.eclipse.jgit.transport.SshTransport;
import org.eclipse.jgit.transport.sshd.JGitKeyCache;
import org.eclipse.jgit.transport.sshd.SshdSessionFactory;
import org.eclipse.jgit.transport.sshd.SshdSessionFactoryBuilder;

import dev.conveyor.testkit.TempDirs;

/**
 * A JGit (Apache MINA) SSH client setup with one identity and one known_hosts file, isolated from the real
 * {@code ~/.ssh}: it gets its own home and ssh directory with a generated {@code config} that keeps
 * {@code StrictHostKeyChecking yes}. Close it to stop the MINA client threads and delete the directory.
 *
 * <pre>{@code
 * try (SshClientConfig client = SshClientConfig.create(key, knownHosts)) {
 *     Git.cloneRepository().setURI(url).setTransportConfigCallback(client.transportConfigCallback())...
 * }
 * }</pre>
 */
public final class SshClientConfig implements AutoCloseable {

    private final Path home;
    private final Path identity;
    private final Path knownHosts;
    private final SshdSessionFactory factory;

    private SshClientConfig(Path home, Path identity, Path knownHosts, SshdSessionFactory factory) {
        this.home = home;
        this.identity = identity;
        this.knownHosts = knownHosts;
        this.factory = factory;
    }

    /** A client that authenticates with {@code identity} and trusts only the hosts in {@code knownHosts}. */
    public static SshClientConfig create(Path identity, Path knownHosts) {
        Path home = TempDirs.create("ssh-client");
        try {
            Path sshDir = Files.createDirectories(home.resolve(".ssh"));
            // Written rather than built in code: JGit only exposes host config through an ssh config file (its
            // in-memory config classes are internal API), and this file also documents the setup when debugging.
            Files.writeString(sshDir.resolve("config"), String.join("\n",
                    "Host *",
                    "  StrictHostKeyChecking yes",
                    "  UserKnownHostsFile " + quote(knownHosts),
                    "  GlobalKnownHostsFile /dev/null",
                    "  IdentityFile " + quote(identity),
                    "  IdentitiesOnly yes",
                    "  PreferredAuthentications publickey",
                    ""), StandardCharsets.UTF_8);
            SshdSessionFactory factory = new SshdSessionFactoryBuilder()
                    .setHomeDirectory(home.toFile())
                    .setSshDirectory(sshDir.toFile())
                    .setDefaultIdentities(dir -> List.of(identity))
                    .setDefaultKnownHostsFiles(dir -> List.of(knownHosts))
                    .setPreferredAuthentications("publickey")
                    .build(new JGitKeyCache());
            return new SshClientConfig(home, identity, knownHosts, factory);
        } catch (IOException | RuntimeException e) {
            TempDirs.deleteQuietly(home);
            throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
    }

    /** The session factory; prefer {@link #transportConfigCallback()} for JGit commands. */
    public SshdSessionFactory sessionFactory() {
        return factory;
    }

    /** Sets this client's session factory on SSH transports; other transports are left alone. */
    public TransportConfigCallback transportConfigCallback() {
        return transport -> {
            if (transport instanceof SshTransport ssh) {
                ssh.setSshSessionFactory(factory);
            }
        };
    }

    /** The private key used to authenticate. */
    public Path identity() {
        return identity;
    }

    /** The known_hosts file used to verify the server. */
    public Path knownHosts() {
        return knownHosts;
    }

    /** Closes the MINA client and deletes the isolated home directory. */
    @Override
    public void close() {
        try {
            factory.close();
        } finally {
            TempDirs.deleteQuietly(home);
        }
    }

    private static String quote(Path path) {
        return "\"" + path.toAbsolutePath() + "\"";
    }
}
