package dev.conveyor.testkit.git;

import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.awaitility.core.ConditionTimeoutException;
import org.eclipse.jgit.api.TransportConfigCallback;
import org.eclipse.jgit.transport.RemoteSession;
import org.eclipse.jgit.transport.URIish;
import org.eclipse.jgit.util.FS;

import dev.conveyor.testkit.Binaries;
import dev.conveyor.testkit.Ports;
import dev.conveyor.testkit.TempDirs;

/**
 * A real OpenSSH {@code sshd} (Debian {@code openssh-server}) on {@code 127.0.0.1:<free port>}, started as a child
 * process with a generated config, host key and client key in a unique temp directory. Git runs through the login shell
 * of the current user exactly as on a production git host, so {@code ssh://user@127.0.0.1:port/abs/path.git} URLs reach
 * any bare repository the user can read.
 *
 * <p>
 * Only public-key authentication with the generated client key is accepted, and clients verify the server with the
 * generated {@link #knownHosts()} file: host key checking is never turned off.
 *
 * <p>
 * Privileges (checked by hand with OpenSSH 9.2): as root (CI), sshd needs its privilege separation directory
 * {@code /run/sshd}, which this class creates; and because the config says {@code UsePAM no}, a root-run sshd refuses
 * accounts locked with {@code !} in {@code /etc/shadow} even for key logins ({@code usermod -p '*' root} unlocks
 * without setting a password; Debian containers already use {@code *}). As a normal user, sshd runs without privilege
 * separation, needs no {@code /run/sshd}, cannot read the shadow file (so a locked account does not matter), and can
 * only log in that same user, which is exactly the user this class puts in {@code AllowUsers}.
 */
public final class SshGitServer implements AutoCloseable {

    private static final String LOOPBACK = "127.0.0.1";
    private static final Path PRIVSEP_DIR = Path.of("/run/sshd");
    private static final int BIND_ATTEMPTS = 5;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final Path dir;
    private final int port;
    private final Process process;
    private final Path stderr;
    private final SshKeys.KeyPair hostKey;
    private final SshKeys.KeyPair clientKey;
    private final Path knownHosts;
    private final SshClientConfig client;
    private final Thread shutdownHook;

    private SshGitServer(Path dir, int port, Process process, Path stderr, SshKeys.KeyPair hostKey,
            SshKeys.KeyPair clientKey, Path knownHosts, SshClientConfig client, Thread shutdownHook) {
        this.dir = dir;
        this.port = port;
        this.process = process;
        this.stderr = stderr;
        this.hostKey = hostKey;
        this.clientKey = clientKey;
        this.knownHosts = knownHosts;
        this.client = client;
        this.shutdownHook = shutdownHook;
    }

    /**
     * Generates keys and config, starts sshd and returns once it accepts an authenticated SSH session with the client
     * key (a full handshake with host key verification, not just an open port).
     *
     * @throws IllegalStateException with sshd's stderr if it exits or never becomes ready
     */
    public static SshGitServer start() {
        Path sshd = Binaries.require("sshd", "openssh-server");
        Binaries.require("ssh-keygen", "openssh-client");
        Path dir = TempDirs.create("sshd");
        Process process = null;
        SshClientConfig client = null;
        try {
            ensurePrivsepDir();
            SshKeys.KeyPair hostKey = SshKeys.generate(dir.resolve("ssh_host_ed25519_key"), "conveyor-testkit-host");
            SshKeys.KeyPair clientKey = SshKeys.generate(dir.resolve("client/id_ed25519"), "conveyor-testkit-client");
            Path authorizedKeys = dir.resolve("authorized_keys");
            Files.writeString(authorizedKeys, clientKey.publicKeyLine() + "\n", StandardCharsets.UTF_8);
            boolean penaltiesSupported = supportsPerSourcePenalties(sshd);
            String failures = "";
            for (int attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
                int port = Ports.free();
                Path config = dir.resolve("sshd_config");
                Files.writeString(config, config(port, dir, hostKey, authorizedKeys, penaltiesSupported),
                        StandardCharsets.UTF_8);
                Path stderr = dir.resolve("sshd-" + port + ".log");
                process = new ProcessBuilder(sshd.toString(), "-D", "-e", "-f", config.toString())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                        .redirectOutput(stderr.toFile()).redirectErrorStream(true).start();
                if (!awaitBanner(process, port)) {
                    String log = readQuietly(stderr);
                    stop(process);
                    process = null;
                    // Another JVM may have taken the port between Ports.free() and sshd's bind: try a new one.
                    if (log.contains("Address already in use") || log.contains("Cannot bind any address")) {
                        failures += "port " + port + ": " + log + "\n";
                        continue;
                    }
                    throw new IllegalStateException("sshd did not start on " + LOOPBACK + ":" + port + ": " + log);
                }
                Path knownHosts = dir.resolve("known_hosts");
                Files.writeString(knownHosts, knownHostsLine(port, hostKey) + "\n", StandardCharsets.UTF_8);
                client = SshClientConfig.create(clientKey.privateKey(), knownHosts);
                verifyLogin(client, port, stderr);
                Process started = process;
                Thread hook = new Thread(() -> stop(started), "sshd-shutdown-" + port);
                Runtime.getRuntime().addShutdownHook(hook);
                return new SshGitServer(dir, port, process, stderr, hostKey, clientKey, knownHosts, client, hook);
            }
            throw new IllegalStateException("sshd found no free port after " + BIND_ATTEMPTS + " attempts:\n"
                    + failures);
        } catch (IOException | RuntimeException e) {
            if (client != null) {
                client.close();
            }
            if (process != null) {
                stop(process);
            }
            TempDirs.deleteQuietly(dir);
            throw e instanceof IOException io
                    ? new UncheckedIOException("cannot start sshd", io)
                    : (RuntimeException) e;
        }
    }

    /** The TCP port on 127.0.0.1. */
    public int port() {
        return port;
    }

    /** The login user: the user running this JVM (sshd can only log in that user when not root). */
    public String user() {
        return System.getProperty("user.name");
    }

    /** {@code ssh://<user>@127.0.0.1:<port><absolute path>} for a bare repository on this machine. */
    public String url(Path bareRepo) {
        return "ssh://" + user() + "@" + LOOPBACK + ":" + port + bareRepo.toAbsolutePath().normalize();
    }

    /** The URL of a {@link BareRepo}. */
    public String url(BareRepo repo) {
        return url(repo.path());
    }

    /** The authorized client's private key (ed25519, no passphrase). */
    public Path privateKey() {
        return clientKey.privateKey();
    }

    /** The authorized client's public key file. */
    public Path publicKey() {
        return clientKey.publicKey();
    }

    /** The server's public host key file. */
    public Path hostPublicKey() {
        return hostKey.publicKey();
    }

    /** A known_hosts file with one line, {@code [127.0.0.1]:<port> ssh-ed25519 <host key>}. */
    public Path knownHosts() {
        return knownHosts;
    }

    /** The known_hosts line for this server. */
    public String knownHostsLine() {
        return knownHostsLine(port, hostKey);
    }

    /** Configures JGit SSH transports to use the authorized key and this server's known_hosts. */
    public TransportConfigCallback transportConfigCallback() {
        return client.transportConfigCallback();
    }

    /** The JGit client setup behind {@link #transportConfigCallback()}; owned by this server. */
    public SshClientConfig client() {
        return client;
    }

    /**
     * A {@code GIT_SSH_COMMAND} value for the git CLI: the authorized key, this server's known_hosts, strict host key
     * checking, no user ssh config, batch mode (never prompts).
     */
    public String gitSshCommand() {
        Path ssh = Binaries.require("ssh", "openssh-client");
        return shellQuote(ssh.toString()) + " -F /dev/null -i " + shellQuote(privateKey().toString())
                + " -o IdentitiesOnly=yes -o UserKnownHostsFile=" + shellQuote(knownHosts.toString())
                + " -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes -p " + port;
    }

    /** Everything sshd logged so far (it runs with {@code -e}); useful in assertion messages. */
    public String log() {
        return readQuietly(stderr);
    }

    /** Stops sshd and its session processes, closes the JGit client and deletes the temp directory. */
    @Override
    public void close() {
        try {
            client.close();
        } finally {
            try {
                stop(process);
                try {
                    Runtime.getRuntime().removeShutdownHook(shutdownHook);
                } catch (IllegalStateException e) {
                    // The JVM is already shutting down; the hook does the same work.
                }
            } finally {
                TempDirs.deleteQuietly(dir);
            }
        }
    }

    static String config(int port, Path dir, SshKeys.KeyPair hostKey, Path authorizedKeys, boolean penalties) {
        StringBuilder config = new StringBuilder();
        config.append("Port ").append(port).append('\n');
        config.append("ListenAddress ").append(LOOPBACK).append('\n');
        config.append("HostKey ").append(hostKey.privateKey().toAbsolutePath()).append('\n');
        config.append("PidFile ").append(dir.resolve("sshd.pid").toAbsolutePath()).append('\n');
        config.append("AuthorizedKeysFile ").append(authorizedKeys.toAbsolutePath()).append('\n');
        config.append("AllowUsers ").append(System.getProperty("user.name")).append('\n');
        config.append("""
                PubkeyAuthentication yes
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                UsePAM no
                StrictModes no
                PermitRootLogin prohibit-password
                UseDNS no
                PrintMotd no
                PrintLastLog no
                X11Forwarding no
                AllowTcpForwarding no
                AllowAgentForwarding no
                PermitTunnel no
                MaxStartups 100:30:200
                LogLevel VERBOSE
                """);
        if (penalties) {
            // OpenSSH >= 9.8 penalises sources with failed logins; tests deliberately fail logins from 127.0.0.1.
            config.append("PerSourcePenalties no\n");
        }
        return config.toString();
    }

    private static String knownHostsLine(int port, SshKeys.KeyPair hostKey) {
        return "[" + LOOPBACK + "]:" + port + " " + hostKey.typeAndKey();
    }

    private static void ensurePrivsepDir() throws IOException {
        if ("root".equals(System.getProperty("user.name")) && !Files.isDirectory(PRIVSEP_DIR)) {
            // Several JVMs may race here; createDirectories tolerates an existing directory.
            Files.createDirectories(PRIVSEP_DIR);
        }
    }

    private static boolean supportsPerSourcePenalties(Path sshd) {
        try {
            Process version = new ProcessBuilder(sshd.toString(), "-V").redirectErrorStream(true).start();
            String out = new String(version.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            version.waitFor(10, TimeUnit.SECONDS);
            Matcher m = Pattern.compile("OpenSSH_(\\d+)\\.(\\d+)").matcher(out);
            if (m.find()) {
                int major = Integer.parseInt(m.group(1));
                int minor = Integer.parseInt(m.group(2));
                return major > 9 || (major == 9 && minor >= 8);
            }
            return false;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** True once sshd sends its identification string; false if it exits first. */
    private static boolean awaitBanner(Process process, int port) {
        try {
            await().atMost(START_TIMEOUT).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(25))
                    .until(() -> !process.isAlive() || bannerReceived(port));
        } catch (ConditionTimeoutException e) {
            return false;
        }
        return process.isAlive();
    }

    private static boolean bannerReceived(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(LOOPBACK, port), 500);
            socket.setSoTimeout(2000);
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                    StandardCharsets.US_ASCII));
            String line = in.readLine();
            return line != null && line.startsWith("SSH-2.0-");
        } catch (IOException e) {
            return false;
        }
    }

    /** Opens one real session with the client key and runs {@code true}: proves host key, auth and shell work. */
    private static void verifyLogin(SshClientConfig client, int port, Path stderr) {
        RemoteSession session = null;
        try {
            URIish uri = new URIish().setScheme("ssh").setUser(System.getProperty("user.name")).setHost(LOOPBACK)
                    .setPort(port).setPath("/");
            session = client.sessionFactory().getSession(uri, null, FS.DETECTED, 10_000);
            Process remote = session.exec("true", 10);
            if (!remote.waitFor(10, TimeUnit.SECONDS) || remote.exitValue() != 0) {
                throw new IllegalStateException("ssh login works but 'true' failed; sshd log:\n" + readQuietly(stderr));
            }
        } catch (IOException e) {
            throw new IllegalStateException("sshd is up but an SSH login with the generated key failed (" + e
                    + "). As root, check that the account is not locked in /etc/shadow. sshd log:\n"
                    + readQuietly(stderr), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted verifying sshd", e);
        } finally {
            if (session != null) {
                client.sessionFactory().releaseSession(session);
            }
        }
    }

    private static void stop(Process process) {
        // Snapshot first: once the listener dies its per-connection children are re-parented and no longer found.
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy();
        children.forEach(ProcessHandle::destroy);
        try {
            process.onExit().get(10, TimeUnit.SECONDS);
        } catch (TimeoutException | ExecutionException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no sshd log: " + e + ")";
        }
    }

    private static String shellQuote(String value) {
        return "'" + value.replace("'", "'\\''") + "'";
    }
}
