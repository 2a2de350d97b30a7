package dev.conveyor.local;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.patch;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

import org.eclipse.jgit.transport.Daemon;

import com.github.tomakehurst.wiremock.WireMockServer;

import dev.conveyor.testkit.git.RootRepositoryResolver;
import dev.conveyor.testkit.stubs.ProviderStubs;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * The part of the local stack's infrastructure that lives in one JVM: a git daemon serving the stack's repositories,
 * the Kubernetes API stand-in with a minimal Deployment controller (unless a real cluster is given), and the
 * notification stubs (GitHub, Slack and JIRA shapes, WireMock), each on the port the stack recorded for it. The broker
 * and the registry are processes of their own, supervised separately ({@link LocalStack}), so a crash of either
 * restarts only that one. The stand-in's objects are snapshotted to {@code kube/objects.json} and restored at start
 * ({@link StandIn}). The host waits until it is terminated; its shutdown closes everything it started.
 *
 * <p>
 * Usage: {@code StackHost <data-dir> --git-port=<port> --stubs-port=<port> [--kube-port=<port>] [<kubeconfig of a real
 * cluster>]}; without {@code --kube-port} the kubeconfig is required.
 */
public final class StackHost {

    private StackHost() {
    }

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args[0]).toAbsolutePath();
        Optional<Path> realCluster = List.of(args).stream().skip(1).filter(a -> !a.startsWith("--")).findFirst().map(
                Path::of);
        StackLayout layout = new StackLayout(dataDir);
        List<AutoCloseable> started = new ArrayList<>();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            closeAll(started);
            stopped.countDown();
        }, "stack-shutdown"));
        try {
            long begin = System.nanoTime();
            int gitPort = intArg(args, "--git-port");
            Daemon git = new Daemon(new InetSocketAddress(InetAddress.getLoopbackAddress(), gitPort));
            git.setRepositoryResolver(new RootRepositoryResolver<>(Files.createDirectories(layout.gitDir())));
            git.getService("git-upload-pack").setEnabled(true);
            git.getService("git-receive-pack").setEnabled(true);
            // Idle clients must not pin daemon threads forever in long local-stack sessions.
            git.setTimeout(60);
            git.start();
            started.add(git::stop);
            log("git daemon git://127.0.0.1:%d/ serving %s", gitPort, layout.gitDir());

            if (realCluster.isPresent()) {
                log("Kubernetes: the cluster of %s", realCluster.get());
            } else {
                long t = System.nanoTime();
                StandIn kube = StandIn.start(intArg(args, "--kube-port"), layout.kubeSnapshot());
                started.add(kube);
                kube.writeKubeconfig(layout.kubeconfig());
                DeploymentController controller = DeploymentController.start(kube.newClient());
                started.add(controller);
                try (KubernetesClient client = kube.newClient()) {
                    // flux-sync keeps its inventories, problem events and identity in namespace "conveyor". Created
                    // last: the supervisor's probe reads it, so the host counts as up only once the store is restored.
                    if (client.namespaces().withName("conveyor").get() == null) {
                        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("conveyor")
                                .endMetadata().build()).create();
                    }
                }
                log("Kubernetes API stand-in %s (%d ms); kubeconfig %s", kube.url(), millisSince(t),
                        layout.kubeconfig());
            }

            int stubsPort = intArg(args, "--stubs-port");
            ProviderStubs lookups = new ProviderStubs();
            WireMockServer stubs = new WireMockServer(options().bindAddress("127.0.0.1").port(stubsPort)
                    .containerThreads(12).extensions(lookups));
            lookups.attach(stubs);
            stubs.start();
            started.add(stubs::stop);
            stubNotificationApis(stubs);
            log("notification stubs (GitHub, Slack, JIRA) http://127.0.0.1:%d", stubsPort);
            log("stack host ready in %d ms", millisSince(begin));
        } catch (Throwable e) {
            log("stack host failed to start: %s", e);
            e.printStackTrace(System.out);
            System.exit(1);
        }
        stopped.await();
    }

    private static int intArg(String[] args, String name) {
        return List.of(args).stream().filter(a -> a.startsWith(name + "=")).findFirst().map(a -> Integer.parseInt(a
                .substring(name.length() + 1))).orElseThrow(() -> new IllegalArgumentException("missing " + name));
    }

    /** Answers shaped like the vendors' documented responses; every request is kept for {@code /__admin/requests}. */
    static void stubNotificationApis(WireMockServer stubs) {
        String json = "application/json";
        stubs.stubFor(post(urlPathMatching("/github/repos/[^/]+/[^/]+/statuses/[0-9a-f]+"))
                .willReturn(aResponse().withStatus(201).withHeader("Content-Type", json)
                        .withBody("{\"id\":1,\"state\":\"success\"}")));
        // list calls answered from what was posted: a notifier restarted with a call in doubt looks its result up
        ProviderStubs.stubLookups(stubs);
        stubs.stubFor(post(urlPathMatching("/github/repos/[^/]+/[^/]+/issues/[0-9]+/comments"))
                .willReturn(aResponse().withStatus(201).withHeader("Content-Type", json).withBody("{\"id\":4711}")));
        stubs.stubFor(patch(urlPathMatching("/github/repos/[^/]+/[^/]+/issues/comments/[0-9]+"))
                .willReturn(okJson("{\"id\":4711}")));
        stubs.stubFor(post(urlPathMatching("/slack/api/chat\\.(postMessage|update)"))
                .willReturn(okJson("{\"ok\":true,\"channel\":\"C0CONVEYOR\",\"ts\":\"1700000000.000100\"}")));
        stubs.stubFor(post(urlPathMatching("/jira/rest/api/3/issue/[A-Z][A-Z0-9]+-[0-9]+/comment"))
                .willReturn(aResponse().withStatus(201).withHeader("Content-Type", json)
                        .withBody("{\"id\":\"10000\"}")));
        stubs.stubFor(post(urlPathMatching("/jira/rest/api/3/issue/[A-Z][A-Z0-9]+-[0-9]+/transitions"))
                .willReturn(aResponse().withStatus(204)));
        // Anything else is a call the stubs do not know: 404 like the real APIs answer unknown paths.
        stubs.stubFor(any(anyUrl()).atPriority(10).willReturn(aResponse().withStatus(404)
                .withHeader("Content-Type", json).withBody("{\"message\":\"Not Found\"}")));
    }

    private static void closeAll(List<AutoCloseable> started) {
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.get(i).close();
            } catch (Exception e) {
                log("stopping %s failed: %s", started.get(i), e);
            }
        }
        started.clear();
    }

    private static long millisSince(long nanos) {
        return Duration.ofNanos(System.nanoTime() - nanos).toMillis();
    }

    static void log(String format, Object... args) {
        System.out.println("[stack] " + String.format(format, args));
        System.out.flush();
    }
}
