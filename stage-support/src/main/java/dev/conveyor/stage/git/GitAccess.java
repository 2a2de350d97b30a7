package dev.conveyor.stage.git;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;

import org.eclipse.jgit.api.TransportCommand;
import org.eclipse.jgit.api.TransportConfigCallback;
import org.eclipse.jgit.transport.CredentialsProvider;
import org.eclipse.jgit.transport.SshTransport;
import org.eclipse.jgit.transport.UsernamePasswordCredentialsProvider;
import org.eclipse.jgit.transport.sshd.JGitKeyCache;
import org.eclipse.jgit.transport.sshd.ServerKeyDatabase;
import org.eclipse.jgit.transport.sshd.SshdSessionFactory;
import org.eclipse.jgit.transport.sshd.SshdSessionFactoryBuilder;

import dev.conveyor.stage.net.OutboundPolicy;

/**
 * Applies {@link GitCredentials} to JGit commands: an Apache MINA SSH client with the configured key and known_hosts
 * (isolated from the process user's {@code ~/.ssh}), and a token for HTTPS. Close it to stop the SSH client.
 */
public final class GitAccess implements AutoCloseable {

    /** The field named when the policy refuses a remote at connection time. */
    public static final String REMOTE_FIELD = "remote";

    private final GitCredentials credentials;
    private final Path home;
    private final SshdSessionFactory ssh;
    private final OutboundPolicy policy;
    private final String field;
    private final boolean owner;

    private GitAccess(GitCredentials credentials, Path home, SshdSessionFactory ssh, OutboundPolicy policy,
            String field, boolean owner) {
        this.credentials = credentials;
        this.home = home;
        this.ssh = ssh;
        this.policy = policy;
        this.field = field;
        this.owner = owner;
    }

    /**
     * The same clients, and every remote a command dials checked against {@code policy} right before the connection
     * (host resolved, every address checked; {@code file:} remotes on their canonical path). Closing the view does not
     * stop the shared SSH client; close this one.
     */
    public GitAccess restrictedTo(OutboundPolicy outbound) {
        return restrictedTo(outbound, REMOTE_FIELD);
    }

    /**
     * {@link #restrictedTo(OutboundPolicy)}, naming {@code remoteField} (the event or file field the remotes come from,
     * e.g. {@code repoUrl}) in refusals.
     */
    public GitAccess restrictedTo(OutboundPolicy outbound, String remoteField) {
        return new GitAccess(credentials, home, ssh, outbound, remoteField, false);
    }

    /** The field named in refusals of this access's policy. */
    public String remoteField() {
        return field;
    }

    /** The outbound policy remotes are checked against, when this access is restricted. */
    public java.util.Optional<OutboundPolicy> policy() {
        return java.util.Optional.ofNullable(policy);
    }

    /** Builds the clients for these credentials. */
    public static GitAccess create(GitCredentials credentials) {
        try {
            Path home = Files.createTempDirectory("conveyor-git-home-");
            Path sshDir = Files.createDirectories(home.resolve(".ssh"));
            List<String> config = new ArrayList<>(List.of("Host *",
                    "  StrictHostKeyChecking " + (credentials.strictHostKeyChecking() ? "yes" : "no"),
                    "  GlobalKnownHostsFile /dev/null",
                    "  PreferredAuthentications publickey"));
            credentials.knownHosts().ifPresent(k -> config.add("  UserKnownHostsFile \"" + k.toAbsolutePath() + "\""));
            credentials.sshPrivateKey().ifPresent(k -> {
                config.add("  IdentityFile \"" + k.toAbsolutePath() + "\"");
                config.add("  IdentitiesOnly yes");
            });
            // JGit reads host settings only from an ssh config file; this one is private to the stage.
            Files.write(sshDir.resolve("config"), config, StandardCharsets.UTF_8);
            SshdSessionFactoryBuilder builder = new SshdSessionFactoryBuilder()
                    .setHomeDirectory(home.toFile())
                    .setSshDirectory(sshDir.toFile())
                    .setPreferredAuthentications("publickey")
                    .setDefaultIdentities(dir -> credentials.sshPrivateKey().map(List::of).orElse(List.of()))
                    .setDefaultKnownHostsFiles(dir -> credentials.knownHosts().map(List::of).orElse(List.of()));
            if (!credentials.strictHostKeyChecking()) {
                builder.setServerKeyDatabase((h, s) -> new AcceptAnyServerKey());
            }
            return new GitAccess(credentials, home, builder.build(new JGitKeyCache()), null, REMOTE_FIELD,
                    true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the SSH client's home directory", e);
        }
    }

    /** Sets the SSH client and the HTTPS credentials on a fetch, push, clone or ls-remote. */
    public <C extends TransportCommand<C, ?>> C apply(C command) {
        command.setTransportConfigCallback(transportConfigCallback());
        credentialsProvider().ifPresent(command::setCredentialsProvider);
        return command;
    }

    /**
     * Checks the remote against the outbound policy (when restricted) and sets this SSH client on SSH transports. Runs
     * after JGit parsed the URL and before it connects, so what is checked is what JGit dials; a refusal is an
     * {@link dev.conveyor.stage.net.OutboundRefused} naming the {@link #remoteField()}.
     */
    public TransportConfigCallback transportConfigCallback() {
        return transport -> {
            if (policy != null) {
                policy.checkTransport(field, transport.getURI());
            }
            if (transport instanceof SshTransport sshTransport) {
                sshTransport.setSshSessionFactory(ssh);
            }
        };
    }

    /** Token credentials for HTTPS, when a token is configured. */
    public java.util.Optional<CredentialsProvider> credentialsProvider() {
        return credentials.httpsToken()
                .map(token -> new UsernamePasswordCredentialsProvider(credentials.httpsUsername(), token));
    }

    @Override
    public void close() {
        if (!owner) {
            return;
        }
        ssh.close();
        try (var files = Files.walk(home)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // A leftover empty temp directory is harmless.
        }
    }

    /** Used only when strict host key checking is explicitly disabled. */
    private static final class AcceptAnyServerKey implements ServerKeyDatabase {
        @Override
        public List<PublicKey> lookup(String connectAddress, InetSocketAddress remoteAddress, Configuration config) {
            return List.of();
        }

        @Override
        public boolean accept(String connectAddress, InetSocketAddress remoteAddress, PublicKey serverKey,
                Configuration config, CredentialsProvider provider) {
            return true;
        }
    }
}
