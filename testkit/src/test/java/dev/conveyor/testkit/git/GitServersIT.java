package dev.conveyor.testkit.git;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.TransportConfigCallback;
import org.eclipse.jgit.api.errors.TransportException;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.transport.PushResult;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.RemoteRefUpdate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The three transports against real servers: JGit daemon, OpenSSH sshd, and the git CLI as an independent client. */
class GitServersIT {

    private static GitServers servers;

    @TempDir
    Path work;

    @BeforeAll
    static void startServers() {
        long started = System.nanoTime();
        servers = GitServers.start(true);
        System.out.printf("[timing] GitServers.start(ssh=true) took %d ms%n",
                (System.nanoTime() - started) / 1_000_000);
    }

    @AfterAll
    static void stopServers() {
        if (servers != null) {
            servers.close();
        }
    }

    @Test
    void fileTransportClonesCommitsAndPushes() throws Exception {
        BareRepo repo = servers.repos().createBare(unique("file"));
        String seeded = repo.seed(Map.of("README.md", "hello\n"), "seed");

        String pushed;
        try (Git git = Git.cloneRepository().setURI(repo.fileUrl()).setDirectory(work.resolve("a").toFile()).call()) {
            assertThat(git.getRepository().resolve("HEAD").name()).isEqualTo(seeded);
            pushed = commitFile(git, "app.yaml", "replicas: 2\n", "scale up").name();
            assertPushed(git.push().call());
        }

        Path fresh = repo.cloneTo(work.resolve("fresh"));
        assertThat(fresh.resolve("app.yaml")).hasContent("replicas: 2");
        assertThat(repo.commits()).extracting(BareRepo.Commit::id).containsExactly(pushed, seeded);
    }

    @Test
    void daemonServesPushedCommitsAndAnnotatedTags() throws Exception {
        BareRepo repo = servers.repos().createBare(unique("daemon"));
        repo.seed(Map.of("README.md", "seed\n"), "seed");
        String url = servers.daemon().url(repo);

        String pushed = cloneCommitTagPush(url, null);

        try (Git fresh = Git.cloneRepository().setURI(url).setDirectory(work.resolve("fresh").toFile()).call()) {
            assertThat(fresh.getRepository().resolve("refs/remotes/origin/main").name()).isEqualTo(pushed);
            Ref tag = fresh.getRepository().exactRef("refs/tags/v1.0.0");
            assertThat(tag).isNotNull();
            assertThat(fresh.getRepository().getRefDatabase().peel(tag).getPeeledObjectId().name()).isEqualTo(pushed);
            assertThat(Files.readString(work.resolve("fresh/app.yaml"))).isEqualTo("version: 1.0.0\n");
        }
        assertThat(repo.tags()).containsExactly(new BareRepo.Tag("v1.0.0", pushed, true, "release 1.0.0"));

        GitCli.Result clone = GitCli.run(work, Map.of(), "clone", url, "cli");
        assertThat(clone.exit()).as(clone.output()).isZero();
        GitCli.Result log = GitCli.run(work.resolve("cli"), Map.of(), "log", "-1", "--format=%H");
        assertThat(log.output().trim()).isEqualTo(pushed);
        GitCli.Result tags = GitCli.run(work, Map.of(), "ls-remote", "--tags", url);
        assertThat(tags.exit()).as(tags.output()).isZero();
        assertThat(tags.output()).contains(pushed + "\trefs/tags/v1.0.0^{}");
    }

    @Test
    void daemonRefusesPathsOutsideItsRoot() throws Exception {
        // A real repository right next to the root: only the resolver's containment check keeps it private.
        Path outsideRoot = Files.createTempDirectory("conveyor-git-outside-");
        try {
            Path outside = outsideRoot.resolve("secret.git");
            Git.init().setBare(true).setDirectory(outside.toFile()).call().close();
            String base = servers.daemon().baseUrl();
            String escape = base + "../" + outsideRoot.getFileName() + "/secret.git";

            assertThatThrownBy(() -> Git.lsRemoteRepository().setRemote(base + "../etc").call())
                    .isInstanceOf(TransportException.class);
            assertThatThrownBy(() -> Git.lsRemoteRepository().setRemote(escape).call())
                    .isInstanceOf(TransportException.class);
            GitCli.Result cli = GitCli.run(work, Map.of(), "ls-remote", escape);
            assertThat(cli.exit()).as(cli.output()).isNotZero();
            GitCli.Result etc = GitCli.run(work, Map.of(), "ls-remote", base + "../etc");
            assertThat(etc.exit()).as(etc.output()).isNotZero();
        } finally {
            dev.conveyor.testkit.TempDirs.deleteQuietly(outsideRoot);
        }
    }

    @Test
    void sshWithJGitVerifiesHostKeyAndPushes() throws Exception {
        SshGitServer ssh = servers.ssh();
        BareRepo repo = servers.repos().createBare(unique("ssh-jgit"));
        repo.seed(Map.of("README.md", "seed\n"), "seed");
        String url = ssh.url(repo);

        String pushed = cloneCommitTagPush(url, ssh.transportConfigCallback());

        try (Git fresh = Git.cloneRepository().setURI(url).setTransportConfigCallback(ssh.transportConfigCallback())
                .setDirectory(work.resolve("fresh").toFile()).call()) {
            assertThat(fresh.getRepository().resolve("refs/remotes/origin/main").name()).isEqualTo(pushed);
            assertThat(fresh.getRepository().exactRef("refs/tags/v1.0.0")).isNotNull();
        }
        assertThat(repo.head("main")).contains(pushed);
        assertThat(repo.tags()).extracting(BareRepo.Tag::name, BareRepo.Tag::commitId, BareRepo.Tag::annotated)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("v1.0.0", pushed, true));
    }

    @Test
    void sshWithGitCliUsesGitSshCommand() throws Exception {
        SshGitServer ssh = servers.ssh();
        BareRepo repo = servers.repos().createBare(unique("ssh-cli"));
        String seeded = repo.seed(Map.of("README.md", "seed\n"), "seed");
        String url = ssh.url(repo);
        Map<String, String> env = Map.of("GIT_SSH_COMMAND", ssh.gitSshCommand());

        GitCli.Result clone = GitCli.run(work, env, "clone", url, "cli");
        assertThat(clone.exit()).as(clone.output()).isZero();
        Path cli = work.resolve("cli");
        Files.writeString(cli.resolve("app.yaml"), "from: cli\n");
        assertThat(GitCli.run(cli, env, "add", "app.yaml").exit()).isZero();
        assertThat(GitCli.run(cli, env, "commit", "-m", "cli commit").exit()).isZero();
        assertThat(GitCli.run(cli, env, "tag", "-a", "v2.0.0", "-m", "cli release").exit()).isZero();
        GitCli.Result push = GitCli.run(cli, env, "push", "origin", "main", "v2.0.0");
        assertThat(push.exit()).as(push.output()).isZero();

        List<BareRepo.Commit> commits = repo.commits();
        assertThat(commits).hasSize(2);
        assertThat(commits.get(0).shortMessage()).isEqualTo("cli commit");
        assertThat(commits.get(1).id()).isEqualTo(seeded);
        GitCli.Result tags = GitCli.run(work, env, "ls-remote", "--tags", url);
        assertThat(tags.output()).contains(commits.get(0).id() + "\trefs/tags/v2.0.0^{}");
    }

    @Test
    void sshRefusesAnUnauthorizedKey() throws Exception {
        SshGitServer ssh = servers.ssh();
        BareRepo repo = servers.repos().createBare(unique("ssh-unauthorized"));
        repo.seed(Map.of("README.md", "seed\n"), "seed");
        SshKeys.KeyPair stranger = SshKeys.generate(work.resolve("keys/stranger"), "stranger");

        try (SshClientConfig client = SshClientConfig.create(stranger.privateKey(), ssh.knownHosts())) {
            assertThatThrownBy(() -> Git.lsRemoteRepository().setRemote(ssh.url(repo))
                    .setTransportConfigCallback(client.transportConfigCallback()).call())
                    .isInstanceOf(TransportException.class)
                    // JGit's wording for an authentication failure: the key was offered and refused.
                    .hasMessageContaining("Cannot log in").hasMessageContaining("server refused ssh-ed25519 key");
        }
        String cliSsh = ssh.gitSshCommand().replace(ssh.privateKey().toString(), stranger.privateKey().toString());
        GitCli.Result cli = GitCli.run(work, Map.of("GIT_SSH_COMMAND", cliSsh), "ls-remote", ssh.url(repo));
        assertThat(cli.exit()).isNotZero();
        assertThat(cli.output()).contains("Permission denied (publickey)");
    }

    @Test
    void sshRefusesAServerWhoseHostKeyDoesNotMatch() throws Exception {
        SshGitServer ssh = servers.ssh();
        BareRepo repo = servers.repos().createBare(unique("ssh-hostkey"));
        repo.seed(Map.of("README.md", "seed\n"), "seed");
        SshKeys.KeyPair impostor = SshKeys.generate(work.resolve("keys/impostor"), "impostor");
        Path wrongKnownHosts = work.resolve("wrong_known_hosts");
        Files.writeString(wrongKnownHosts, "[127.0.0.1]:" + ssh.port() + " " + impostor.typeAndKey() + "\n",
                StandardCharsets.UTF_8);

        try (SshClientConfig client = SshClientConfig.create(ssh.privateKey(), wrongKnownHosts)) {
            assertThatThrownBy(() -> Git.lsRemoteRepository().setRemote(ssh.url(repo))
                    .setTransportConfigCallback(client.transportConfigCallback()).call())
                    .isInstanceOf(TransportException.class)
                    .satisfies(e -> assertThat(rootCauseMessages(e)).contains("Server key did not validate"));
        }
        String cliSsh = ssh.gitSshCommand().replace(ssh.knownHosts().toString(), wrongKnownHosts.toString());
        GitCli.Result cli = GitCli.run(work, Map.of("GIT_SSH_COMMAND", cliSsh), "ls-remote", ssh.url(repo));
        assertThat(cli.exit()).isNotZero();
        assertThat(cli.output()).contains("Host key verification failed");
    }

    @Test
    void closingTheServersFreesTheirPorts() throws Exception {
        long started = System.nanoTime();
        GitDaemonServer daemon = GitDaemonServer.start(servers.repos().root());
        long daemonMs = (System.nanoTime() - started) / 1_000_000;
        started = System.nanoTime();
        SshGitServer ssh = SshGitServer.start();
        long sshMs = (System.nanoTime() - started) / 1_000_000;
        System.out.printf("[timing] GitDaemonServer.start took %d ms, SshGitServer.start took %d ms%n", daemonMs,
                sshMs);
        int daemonPort = daemon.port();
        int sshPort = ssh.port();
        assertThat(accepts(daemonPort)).isTrue();
        assertThat(accepts(sshPort)).isTrue();

        daemon.close();
        ssh.close();

        assertThat(accepts(daemonPort)).as("daemon port after close").isFalse();
        assertThat(accepts(sshPort)).as("sshd port after close").isFalse();
    }

    private String cloneCommitTagPush(String url, TransportConfigCallback callback) throws Exception {
        try (Git git = Git.cloneRepository().setURI(url).setTransportConfigCallback(callback)
                .setDirectory(work.resolve("writer").toFile()).call()) {
            RevCommit commit = commitFile(git, "app.yaml", "version: 1.0.0\n", "release 1.0.0");
            git.tag().setName("v1.0.0").setAnnotated(true).setMessage("release 1.0.0").setObjectId(commit).call();
            assertPushed(git.push().setTransportConfigCallback(callback)
                    .setRefSpecs(new RefSpec("refs/heads/main:refs/heads/main"),
                            new RefSpec("refs/tags/v1.0.0:refs/tags/v1.0.0"))
                    .call());
            return commit.name();
        }
    }

    private static RevCommit commitFile(Git git, String path, String content, String message) throws Exception {
        Files.writeString(git.getRepository().getWorkTree().toPath().resolve(path), content);
        git.add().addFilepattern(path).call();
        return git.commit().setMessage(message).setAuthor("Test", "test@conveyor.dev")
                .setCommitter("Test", "test@conveyor.dev").setSign(false).call();
    }

    private static void assertPushed(Iterable<PushResult> results) {
        for (PushResult result : results) {
            Collection<RemoteRefUpdate> updates = result.getRemoteUpdates();
            assertThat(updates).isNotEmpty();
            assertThat(updates).allSatisfy(u -> assertThat(u.getStatus()).as(u.getRemoteName() + " " + u.getMessage())
                    .isEqualTo(RemoteRefUpdate.Status.OK));
        }
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (ConnectException e) {
            return false;
        } catch (IOException e) {
            throw new IllegalStateException("unexpected connect failure on port " + port, e);
        }
    }

    private static String rootCauseMessages(Throwable e) {
        StringBuilder messages = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            messages.append(t).append('\n');
        }
        return messages.toString();
    }

    private static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }
}
