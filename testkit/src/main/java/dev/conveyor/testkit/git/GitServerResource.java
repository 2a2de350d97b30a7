package dev.conveyor.testkit.git;

import java.util.HashMap;
import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Quarkus test resource starting {@link GitServers}: a repository root and a git daemon, plus sshd with init arg
 * {@code ssh=true}.
 *
 * <pre>{@code
 * @QuarkusTest
 * @QuarkusTestResource(value = GitServerResource.class, initArgs = @ResourceArg(name = "ssh", value = "true"))
 * class PromoterIT {
 *     @InjectGitServers
 *     GitServers git;
 * }
 * }
 * </pre>
 *
 * Config it returns: {@value #ROOT}, {@value #DAEMON_URL} ({@code git://127.0.0.1:<port>/}, append {@code <name>.git}),
 * and with SSH {@value #SSH_PORT}, {@value #SSH_PRIVATE_KEY}, {@value #SSH_KNOWN_HOSTS}, {@value #SSH_USER}.
 */
public class GitServerResource implements QuarkusTestResourceLifecycleManager {

    /** Init arg that also starts sshd. */
    public static final String ARG_SSH = "ssh";
    /** Config key: the directory holding {@code <name>.git} repositories. */
    public static final String ROOT = "conveyor.testkit.git.root";
    /** Config key: the daemon's base URL, ending in {@code /}. */
    public static final String DAEMON_URL = "conveyor.testkit.git.daemon-url";
    /** Config key: sshd's port. */
    public static final String SSH_PORT = "conveyor.testkit.git.ssh-port";
    /** Config key: the authorized client private key. */
    public static final String SSH_PRIVATE_KEY = "conveyor.testkit.git.ssh-private-key";
    /** Config key: a known_hosts file trusting sshd's host key. */
    public static final String SSH_KNOWN_HOSTS = "conveyor.testkit.git.ssh-known-hosts";
    /** Config key: the SSH login user. */
    public static final String SSH_USER = "conveyor.testkit.git.ssh-user";

    private boolean withSsh;
    private GitServers servers;

    @Override
    public void init(Map<String, String> initArgs) {
        withSsh = Boolean.parseBoolean(initArgs.getOrDefault(ARG_SSH, "false"));
    }

    @Override
    public Map<String, String> start() {
        servers = GitServers.start(withSsh);
        Map<String, String> config = new HashMap<>();
        config.put(ROOT, servers.repos().root().toString());
        config.put(DAEMON_URL, servers.daemon().baseUrl());
        servers.sshIfStarted().ifPresent(ssh -> {
            config.put(SSH_PORT, Integer.toString(ssh.port()));
            config.put(SSH_PRIVATE_KEY, ssh.privateKey().toString());
            config.put(SSH_KNOWN_HOSTS, ssh.knownHosts().toString());
            config.put(SSH_USER, ssh.user());
        });
        return config;
    }

    @Override
    public void inject(TestInjector testInjector) {
        testInjector.injectIntoFields(servers,
                new TestInjector.AnnotatedAndMatchesType(InjectGitServers.class, GitServers.class));
    }

    @Override
    public void stop() {
        if (servers != null) {
            try {
                servers.close();
            } finally {
                servers = null;
            }
        }
    }

    /** The running servers, e.g. for a test that drives the resource by hand; null before start/after stop. */
    public GitServers servers() {
        return servers;
    }
}
