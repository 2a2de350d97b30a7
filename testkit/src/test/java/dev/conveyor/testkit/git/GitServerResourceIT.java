package dev.conveyor.testkit.git;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Map;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.Ref;
import org.junit.jupiter.api.Test;

import dev.conveyor.testkit.FieldInjector;

/** Drives the Quarkus lifecycle by hand, the way Quarkus does: init, start, inject, stop. */
class GitServerResourceIT {

    /** Stands in for a Quarkus test instance. */
    static class FakeTest {
        @InjectGitServers
        GitServers git;

        GitServers notAnnotated;
    }

    @Test
    void startsInjectsAndStopsEverything() throws Exception {
        GitServerResource resource = new GitServerResource();
        resource.init(Map.of("ssh", "true"));
        FakeTest test = new FakeTest();
        int daemonPort;
        int sshPort;
        try {
            Map<String, String> config = resource.start();
            resource.inject(new FieldInjector(test));

            assertThat(test.git).isSameAs(resource.servers());
            assertThat(test.notAnnotated).isNull();
            daemonPort = test.git.daemon().port();
            sshPort = test.git.ssh().port();
            assertThat(config).containsEntry(GitServerResource.ROOT, test.git.repos().root().toString())
                    .containsEntry(GitServerResource.DAEMON_URL, "git://127.0.0.1:" + daemonPort + "/")
                    .containsEntry(GitServerResource.SSH_PORT, Integer.toString(sshPort))
                    .containsKeys(GitServerResource.SSH_PRIVATE_KEY, GitServerResource.SSH_KNOWN_HOSTS);

            BareRepo repo = test.git.repos().createBare("injected");
            String id = repo.seed(Map.of("a", "b"), "seed");
            String url = config.get(GitServerResource.DAEMON_URL) + "injected.git";
            assertThat(Git.lsRemoteRepository().setRemote(url).callAsMap().get("refs/heads/main"))
                    .extracting(Ref::getObjectId).extracting(Object::toString).asString().contains(id);
        } finally {
            resource.stop();
        }
        Path root = test.git.repos().root();
        assertThat(root).doesNotExist();
        assertThat(refused(daemonPort)).isTrue();
        assertThat(refused(sshPort)).isTrue();
    }

    @Test
    void sshIsOptional() {
        GitServerResource resource = new GitServerResource();
        resource.init(Map.of());
        try {
            Map<String, String> config = resource.start();
            assertThat(config).containsKeys(GitServerResource.ROOT, GitServerResource.DAEMON_URL)
                    .doesNotContainKey(GitServerResource.SSH_PORT);
            assertThat(resource.servers().sshIfStarted()).isEmpty();
        } finally {
            resource.stop();
        }
    }

    private static boolean refused(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

}
