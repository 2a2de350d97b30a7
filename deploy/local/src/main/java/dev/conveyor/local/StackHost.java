package dev.conveyor.local;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.patch;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

import com.github.tomakehurst.wiremock.WireMockServer;

import dev.conveyor.testkit.Binaries;
import dev.conveyor.testkit.git.GitDaemonServer;
import dev.conveyor.testkit.kafka.KafkaBrokerProcess;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import dev.conveyor.testkit.registry.BaseImages;
import dev.conveyor.testkit.registry.OciRegistry;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * The local stack's infrastructure, in one JVM of its own: it starts the Kafka broker (a child JVM), the OCI registry
 * (Debian {@code docker-registry}, a child process), a git daemon serving the stack's repositories, the Kubernetes API
 * stand-in with a minimal Deployment controller (unless a real cluster is given), and the notification stubs
 * (GitHub, Slack and JIRA shapes, WireMock). When everything is ready it writes {@code stack.properties} and then
 * waits until it is terminated; its shutdown closes everything it started.
 *
 * <p>
 * Usage: {@code StackHost <data-dir> [<kubeconfig of a real cluster>]}.
 */
public final class StackHost {

    private StackHost() {
    }

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args[0]).toAbsolutePath();
        boolean noRegistry = List.of(args).contains("--no-registry");
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
            Map<String, String> endpoints = new LinkedHashMap<>();
            long begin = System.nanoTime();

            KafkaBrokerProcess kafka = KafkaBrokerProcess.start(layout.kafkaDir(), dev.conveyor.testkit.Ports.free(),
                    classpath(),
                    Duration.ofSeconds(90));
            started.add(kafka);
            endpoints.put(StackLayout.KAFKA, kafka.bootstrapServers());
            endpoints.put("kafka.pid", Long.toString(kafka.pid()));
            endpoints.put("kafka.start-ms", Long.toString(kafka.startupTime().toMillis()));
            log("kafka broker %s (pid %d, %d ms)", kafka.bootstrapServers(), kafka.pid(),
                    kafka.startupTime().toMillis());

            if (!noRegistry && Binaries.find("docker-registry").isPresent()) {
                long t = System.nanoTime();
                OciRegistry registry = OciRegistry.start();
                started.add(registry);
                String base = BaseImages.seed(registry);
                endpoints.put(StackLayout.REGISTRY, registry.host());
                endpoints.put(StackLayout.BASE_IMAGE, base);
                log("registry %s, base image %s (%d ms)", registry.host(), base, millisSince(t));
            } else {
                // No registry: images go to an OCI image layout, built from a base image tarball; charts go to a
                // chart repository kept in git.
                long t = System.nanoTime();
                Path images = Files.createDirectories(layout.imagesDir());
                Path baseTar = images.resolve("base-image.tar");
                if (!Files.exists(baseTar)) {
                    BaseImages.seedTar(baseTar);
                }
                endpoints.put(StackLayout.IMAGE_LAYOUT, images.resolve("layout").toString());
                endpoints.put(StackLayout.BASE_IMAGE, "docker-archive:" + baseTar);
                log("no registry (%s): images go to the OCI image layout %s, base image %s (%d ms)", noRegistry
                        ? "--no-registry"
                        : "docker-registry is not installed", images.resolve("layout"), baseTar,
                        millisSince(t));
            }

            GitDaemonServer git = GitDaemonServer.start(Files.createDirectories(layout.gitDir()));
            started.add(git);
            endpoints.put(StackLayout.GIT, git.baseUrl());
            log("git daemon %s serving %s", git.baseUrl(), layout.gitDir());

            if (realCluster.isPresent()) {
                endpoints.put(StackLayout.KUBECONFIG, realCluster.get().toAbsolutePath().toString());
                endpoints.put(StackLayout.KUBE_KIND, "cluster");
                log("Kubernetes: the cluster of %s", realCluster.get());
            } else {
                long t = System.nanoTime();
                KubernetesApiStandIn kube = KubernetesApiStandIn.start();
                started.add(kube);
                KubernetesClient client = kube.client();
                // flux-sync keeps its inventories, problem events and identity in namespace "conveyor".
                client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("conveyor")
                        .endMetadata().build()).create();
                DeploymentController controller = DeploymentController.start(kube.newClient());
                started.add(controller);
                Path kubeconfig = kube.writeKubeconfig(layout.kubeconfig());
                endpoints.put(StackLayout.KUBECONFIG, kubeconfig.toString());
                endpoints.put(StackLayout.KUBE_KIND, "stand-in");
                endpoints.put(StackLayout.KUBE_URL, kube.url());
                log("Kubernetes API stand-in %s (%d ms); kubeconfig %s", kube.url(), millisSince(t), kubeconfig);
            }

            WireMockServer stubs = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort()
                    .containerThreads(12));
            stubs.start();
            started.add(stubs::stop);
            stubNotificationApis(stubs);
            endpoints.put(StackLayout.STUBS, "http://127.0.0.1:" + stubs.port());
            log("notification stubs (GitHub, Slack, JIRA) http://127.0.0.1:%d", stubs.port());

            endpoints.put("host.start-ms", Long.toString(millisSince(begin)));
            layout.writeStack(endpoints);
            log("stack ready in %d ms", millisSince(begin));
        } catch (Throwable e) {
            log("stack failed to start: %s", e);
            e.printStackTrace(System.out);
            System.exit(1);
        }
        stopped.await();
    }

    private static String classpath() {
        return System.getProperty("java.class.path");
    }

    /** Answers shaped like the vendors' documented responses; every request is kept for {@code /__admin/requests}. */
    static void stubNotificationApis(WireMockServer stubs) {
        String json = "application/json";
        stubs.stubFor(post(urlPathMatching("/github/repos/[^/]+/[^/]+/statuses/[0-9a-f]+"))
                .willReturn(aResponse().withStatus(201).withHeader("Content-Type", json)
                        .withBody("{\"id\":1,\"state\":\"success\"}")));
        stubs.stubFor(get(urlPathMatching("/github/repos/[^/]+/[^/]+/issues/[0-9]+/comments"))
                .willReturn(okJson("[]")));
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
