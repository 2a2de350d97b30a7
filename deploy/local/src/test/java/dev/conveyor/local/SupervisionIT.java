package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.Ref;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.RegistryImage;
import com.sun.net.httpserver.HttpServer;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

/**
 * {@code ./conveyor up} as a supervisor (issue #14): after {@code kill -9} of a service, the broker, the registry and
 * the stack host, {@code up} brings each back on the same port with the same data; a recorded port held by another
 * program makes {@code up} fail naming the process and the port. Only the API of {@link LocalStack#up} and
 * {@code processes.properties} is used, so the test runs against any version of the stack.
 */
class SupervisionIT {

    @TempDir
    static Path data;
    @TempDir
    static Path scratch;

    static LocalStack stack;
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @BeforeAll
    static void start() throws IOException {
        stack = TestStacks.stack(data, System.out);
        stack.up(Optional.empty());
    }

    @AfterAll
    static void stop() {
        if (stack != null) {
            stack.down();
        }
    }

    @Test
    void afterKill9OfAServiceTheBrokerTheRegistryAndTheStackHostUpRestartsThemOnTheSamePortsWithTheirData()
            throws Exception {
        LocalStack.Running before = stack.up(Optional.empty());
        String registry = before.stack().get(StackLayout.REGISTRY);
        String git = before.stack().get(StackLayout.GIT);
        String image = registry + "/it/probe:" + UUID.randomUUID().toString().substring(0, 8);
        String digest = push(image);
        Map<String, String> refs = refs(git + SampleApp.APP_REPO);
        refs.putAll(refs(git + SampleApp.GITOPS_REPO));
        String configMap = "probe-" + UUID.randomUUID().toString().substring(0, 8);
        try (KubernetesClient kube = kube(before)) {
            kube.configMaps().inNamespace("default").resource(new ConfigMapBuilder().withNewMetadata().withName(
                    configMap).endMetadata().addToData("kept", "yes").build()).create();
        }
        Map<String, String> pids = stack.layout().processes();
        List<String> victims = List.of("versioner", "kafka", "registry", "stack-host");
        for (String victim : victims) {
            String pid = pids.get(victim + ".pid");
            // A stack whose registry is the stack host's child records no pid for it: the host's kill orphans it.
            if (pid != null) {
                new ProcessBuilder("kill", "-9", pid).start().waitFor();
            }
        }

        long begin = System.nanoTime();
        LocalStack.Running after = stack.up(Optional.empty());
        System.out.printf("up after kill -9 of %s: %.1f s%n", victims, (System.nanoTime() - begin) / 1e9);

        // Same endpoints, same ports: runs in flight keep the git URLs their events name.
        assertThat(after.stack()).containsAllEntriesOf(before.stack());
        assertThat(after.ports()).isEqualTo(before.ports());
        Map<String, String> now = stack.layout().processes();
        for (String victim : victims) {
            assertThat(now.get(victim + ".pid")).as("%s restarted", victim).isNotEqualTo(pids.get(victim + ".pid"));
            assertThat(LocalStack.alive(Long.parseLong(now.get(victim + ".pid")))).as("%s alive", victim).isTrue();
        }
        // Everything healthy, judged by what it serves.
        for (var service : after.ports().entrySet()) {
            assertThat(status("http://127.0.0.1:" + service.getValue() + "/q/health/ready")).as(service.getKey())
                    .isEqualTo(200);
        }
        assertThat(brokerServes(after.stack().get(StackLayout.KAFKA))).isTrue();
        // The registry kept what was pushed before, the git repositories their refs, the API stand-in its objects.
        assertThat(manifestDigest(image)).contains(digest);
        Map<String, String> refsAfter = refs(git + SampleApp.APP_REPO);
        refsAfter.putAll(refs(git + SampleApp.GITOPS_REPO));
        assertThat(refsAfter).isEqualTo(refs);
        try (KubernetesClient kube = kube(after)) {
            assertThat(kube.configMaps().inNamespace("default").withName(configMap).get()).isNotNull()
                    .satisfies(cm -> assertThat(cm.getData()).containsEntry("kept", "yes"));
            assertThat(kube.namespaces().withName("conveyor").get()).isNotNull();
        }
        assertThat(stack.isUp()).isTrue();
    }

    @Test
    void everyStageConsumerJoinsItsGroupUnderItsProcessNameSoARestartTakesItsPartitionsBack() throws Exception {
        LocalStack.Running running = stack.up(Optional.empty());
        Map<String, String> expected = Map.of("conveyor-versioner", "versioner_conveyor.build.succeeded",
                "conveyor-image-builder", "image-builder_conveyor.version.resolved", "conveyor-manifest-renderer",
                "manifest-renderer_conveyor.image.pushed", "conveyor-promoter", "promoter_conveyor.manifests.validated",
                "conveyor-flux-sync", "flux-sync_conveyor.release.promoted");
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, running.stack().get(StackLayout.KAFKA));
        try (Admin admin = Admin.create(props)) {
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                Map<String, List<String>> members = new LinkedHashMap<>();
                admin.describeConsumerGroups(expected.keySet()).all().get(10, TimeUnit.SECONDS).forEach((g,
                        d) -> members.put(g, d.members().stream().map(m -> m.groupInstanceId().orElse("(dynamic) " + m
                                .consumerId())).toList()));
                expected.forEach((group, name) -> assertThat(members.get(group)).as("members of %s", group)
                        .containsExactly(name));
            });
        }
    }

    @Test
    void aRecordedPortHeldByAnotherProgramMakesUpFailNamingTheProcess() throws Exception {
        LocalStack.Running before = stack.up(Optional.empty());
        int port = before.ports().get("notifier");
        String pid = stack.layout().processes().get("notifier.pid");
        new ProcessBuilder("kill", "-9", pid).start().waitFor();
        // The dead notifier's socket is closed at once (even while it is a zombie); a foreign program takes the port.
        ServerSocket foreign = await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(
                () -> new ServerSocket(port, 50, InetAddress.getLoopbackAddress()), s -> true);
        try (foreign) {
            assertThatThrownBy(() -> stack.up(Optional.empty())).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("notifier").hasMessageContaining("port " + port);
            assertThat(stack.isUp()).isFalse();
        }
        // Once the port is free again, up brings the notifier back on it.
        LocalStack.Running after = stack.up(Optional.empty());
        assertThat(after.ports()).isEqualTo(before.ports());
        assertThat(status("http://127.0.0.1:" + port + "/q/health/ready")).isEqualTo(200);
    }

    @Test
    void aHealthAnswerFromAnotherProgramOnADeadServicesPortIsNotTheService() throws Exception {
        LocalStack.Running before = stack.up(Optional.empty());
        int port = before.ports().get("promoter");
        String pid = stack.layout().processes().get("promoter.pid");
        new ProcessBuilder("kill", "-9", pid).start().waitFor();
        // Another stack's promoter, say: it answers the health check on the dead one's port.
        HttpServer impostor = await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
            server.createContext("/", exchange -> {
                exchange.sendResponseHeaders(200, -1);
                exchange.close();
            });
            server.start();
            return server;
        }, s -> true);
        try {
            assertThat(status("http://127.0.0.1:" + port + "/q/health/ready")).isEqualTo(200);
            assertThatThrownBy(() -> stack.up(Optional.empty())).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("promoter").hasMessageContaining("port " + port);
            assertThat(stack.isUp()).isFalse();
        } finally {
            impostor.stop(0);
        }
        LocalStack.Running after = stack.up(Optional.empty());
        assertThat(after.ports()).isEqualTo(before.ports());
        assertThat(stack.layout().processes().get("promoter.pid")).isNotEqualTo(pid);
    }

    private static String push(String reference) throws Exception {
        Path work = Files.createTempDirectory(scratch, "jib");
        return Jib.fromScratch().addLabel("probe", reference).containerize(Containerizer.to(RegistryImage.named(
                reference)).setAllowInsecureRegistries(true).setBaseImageLayersCache(work.resolve("base"))
                .setApplicationLayersCache(work.resolve("app"))).getDigest().toString();
    }

    private static Optional<String> manifestDigest(String reference) throws Exception {
        int slash = reference.indexOf('/');
        int colon = reference.lastIndexOf(':');
        String url = "http://" + reference.substring(0, slash) + "/v2/" + reference.substring(slash + 1, colon)
                + "/manifests/" + reference.substring(colon + 1);
        HttpResponse<Void> r = HTTP.send(
                HttpRequest.newBuilder(URI.create(url)).method("HEAD", HttpRequest.BodyPublishers.noBody())
                        .header("Accept", "application/vnd.oci.image.manifest.v1+json,"
                                + "application/vnd.docker.distribution.manifest.v2+json")
                        .build(),
                HttpResponse.BodyHandlers.discarding());
        return r.statusCode() == 200 ? r.headers().firstValue("Docker-Content-Digest") : Optional.empty();
    }

    private static Map<String, String> refs(String url) throws Exception {
        Map<String, String> refs = new LinkedHashMap<>();
        for (Ref ref : Git.lsRemoteRepository().setRemote(url).setHeads(true).setTags(true).call()) {
            refs.put(url + " " + ref.getName(), ref.getObjectId().name());
        }
        assertThat(refs).as("refs of %s", url).isNotEmpty();
        return refs;
    }

    private static int status(String url) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).GET().build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static boolean brokerServes(String bootstrap) throws Exception {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        try (Admin admin = Admin.create(props)) {
            return !admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            return false;
        }
    }

    private static KubernetesClient kube(LocalStack.Running running) throws IOException {
        Config config = Config.fromKubeconfig(Files.readString(Path.of(running.stack().get(StackLayout.KUBECONFIG))));
        return new KubernetesClientBuilder().withConfig(config).build();
    }
}
