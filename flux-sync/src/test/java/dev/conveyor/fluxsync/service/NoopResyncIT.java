package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpServer;

import dev.conveyor.events.v1.SyncSummary;
import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.domain.ProblemReason;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.git.RepoWriter;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * A no-op resync against the API stand-in, every request counted on the wire ({@link ApiCalls}): releases whose
 * Deployments the test rolls out, fails or leaves alone (the stand-in has no controllers). The health of the unchanged
 * releases comes from the lists of live objects the sync makes anyway — no read of a Deployment by itself — and is
 * still honest: a Deployment not rolled out leaves its release not ready, a failed one fails it, a rolled-out one
 * makes it ready. A resync that finds nothing changed writes nothing (no apply, status, Helm record, inventory or
 * event).
 */
class NoopResyncIT {

    static GitRepos repos;
    static GitAccess access;
    static Path work;

    @BeforeAll
    static void start() throws Exception {
        repos = new GitRepos();
        access = GitAccess.create(GitCredentials.none());
        work = Files.createTempDirectory("flux-sync-noop");
    }

    @AfterAll
    static void stop() {
        access.close();
        repos.close();
    }

    /** A reconciler whose requests to {@code kube} {@code calls} records. */
    static RepoReconciler reconciler(ApiCalls calls, KubernetesApiStandIn kube) {
        return new RepoReconciler(new RepoMirrors(work.resolve("mirrors"), access), new KubeCluster(calls.client(kube),
                "conveyor-flux-sync"), new ChartRenderer(work.resolve("work")),
                new RepoReconciler.Settings("charts",
                        "conveyor", Duration.ZERO, Duration.ofMillis(1), work.resolve("work"), 2, 4),
                new SimpleMeterRegistry(), Clock.systemUTC());
    }

    static Map<String, String> states(SyncResult result) {
        Map<String, String> out = new TreeMap<>();
        result.releases().forEach(r -> out.put(r.namespace() + "/" + r.name(), r.state() + " " + r.reason()));
        return out;
    }

    @Test
    void unchangedReleasesTakeTheirHealthFromTheListsAndANoOpWritesNothing() throws Exception {
        BareRepo repo = repos.createBare("noop");
        RepoWriter w = SeedRepo.chart(repo.writer()).file("namespaces/apps.yaml", SeedRepo.namespace("apps"))
                .file("releases/manifests/apps/settings.yaml", SeedRepo.configMap("settings", "v"));
        for (String name : List.of("ready", "stuck", "failed")) {
            w.file("releases/helm/apps/" + name + ".yaml", SeedRepo.fluxHelmRelease(name, "apps", "example/app:1",
                    ""));
        }
        w.message("three releases").commit();
        ApiCalls calls = new ApiCalls();
        try (KubernetesApiStandIn kube = KubernetesApiStandIn.start()) {
            RepoReconciler reconciler = reconciler(calls, kube);
            RepoSpec spec = new RepoSpec("noop", repo.fileUrl(), "main", "", Duration.ofMinutes(5), true, false);

            SyncResult initial = reconciler.sync(spec, Set.of());
            assertThat(states(initial)).containsEntry("apps/ready", "DEGRADED " + ProblemReason.ROLLOUT_TIMEOUT)
                    .containsEntry("apps/stuck", "DEGRADED " + ProblemReason.ROLLOUT_TIMEOUT);

            // the test plays the Deployment controller (release names are <namespace>-<name>)
            HealthCheckIT.status(kube, "apps", "apps-ready", false);
            HealthCheckIT.status(kube, "apps", "apps-failed", true);
            calls.reset();
            SyncResult first = reconciler.sync(spec, Set.of());

            assertThat(first.summary()).isEqualTo(new SyncSummary(0, 0, initial.summary().created(), 0));
            assertThat(states(first)).containsEntry("apps/ready", "HEALTHY " + ProblemReason.SUCCEEDED)
                    .containsEntry("apps/stuck", "DEGRADED " + ProblemReason.ROLLOUT_TIMEOUT)
                    .containsEntry("apps/failed", "DEGRADED " + ProblemReason.ROLLOUT_FAILED);
            assertThat(first.releases()).filteredOn(r -> r.name().equals("stuck")).singleElement().satisfies(
                    r -> assertThat(r.message()).contains("Deployment apps/apps-stuck: 0 of 1 replicas updated"));
            // one list of Deployments for the whole sync, no read of a Deployment by itself
            assertThat(calls.all()).filteredOn(c -> c.startsWith("GET ") && c.contains("/deployments")).singleElement()
                    .satisfies(c -> assertThat(c).startsWith("GET /apis/apps/v1/deployments?labelSelector="));
            // the conditions that changed were written, and only those: ready and failed changed state; stuck is as unready as the initial sync's wait left it, so it keeps that wait's message ("not
            // ready after 0 s: ...", not "not ready yet: ...") and is not written again
            assertThat(calls.writes()).hasSize(2).allSatisfy(c -> assertThat(c).matches(
                    "PUT /apis/helm.integrations.flux.weave.works/v1alpha2/namespaces/apps/fluxhelmreleases/"
                            + "(ready|failed)/status"));
            assertThat(ready(kube, "ready")).isEqualTo("True");
            assertThat(ready(kube, "stuck")).isEqualTo("False");
            assertThat(ready(kube, "failed")).isEqualTo("False");
            assertThat(message(kube, "stuck")).startsWith("not ready after 0 s: Deployment apps/apps-stuck");

            calls.reset();
            SyncResult second = reconciler.sync(spec, Set.of());

            assertThat(calls.writes()).isEmpty();
            assertThat(second.releases()).isEqualTo(first.releases());
            assertThat(calls.all()).noneSatisfy(c -> assertThat(c).matches("GET .*/deployments/.*"));
        }
    }

    @Test
    void aFailedListOfAKindLeavesItsObjectsAsTheyAreAndNamesTheFailure() throws Exception {
        BareRepo repo = repos.createBare("failed-list");
        SeedRepo.chart(repo.writer()).file("namespaces/apps.yaml", SeedRepo.namespace("apps"))
                .file("releases/manifests/apps/a.yaml", SeedRepo.configMap("a", "1"))
                .file("releases/manifests/apps/b.yaml", SeedRepo.configMap("b", "2"))
                .message("two config maps").commit();
        ApiCalls calls = new ApiCalls();
        // what an API server under load answers a list with
        HttpServer overloaded = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        overloaded.createContext("/", exchange -> {
            byte[] body = ("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":"
                    + "\"the server is currently unable to handle the request\",\"reason\":\"ServiceUnavailable\","
                    + "\"code\":503}").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(503, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        overloaded.start();
        try (KubernetesApiStandIn kube = KubernetesApiStandIn.start()) {
            RepoReconciler reconciler = reconciler(calls, kube);
            RepoSpec spec = new RepoSpec("failed-list", repo.fileUrl(), "main", "", Duration.ofMinutes(5), true,
                    false);
            SyncResult initial = reconciler.sync(spec, Set.of());
            assertThat(initial.problems()).isEmpty();
            kube.client().configMaps().inNamespace("apps").withName("a").edit(c -> {
                c.getData().put("value", "changed in the cluster");
                return c;
            });

            calls.redirect("/api/v1/configmaps", URI.create("http://127.0.0.1:" + overloaded.getAddress().getPort()));
            calls.reset();
            SyncResult failed = reconciler.sync(spec, Set.of());

            // nothing of the kind written: neither the unchanged b (which an empty list would make look absent) nor
            // the drifted a, which waits for a sync that can see it
            assertThat(calls.writes()).noneSatisfy(c -> assertThat(c).contains("/namespaces/apps/configmaps"));
            assertThat(failed.problems()).hasSize(2).allSatisfy(p -> {
                assertThat(p.reason()).isEqualTo(ProblemReason.APPLY_FAILED);
                assertThat(p.message()).contains("not applied: ConfigMap (v1) could not be listed: HTTP 503");
            });
            assertThat(kube.client().configMaps().inNamespace("apps").withName("b").get().getData()).containsEntry(
                    "value", "2");
            // one list asked for the whole sync, not one per object
            assertThat(calls.all()).filteredOn(c -> c.startsWith("GET /api/v1/configmaps?")).hasSize(1);

            calls.redirect(null, null);
            calls.reset();
            SyncResult after = reconciler.sync(spec, Set.of());

            assertThat(after.problems()).isEmpty();
            assertThat(after.drifted()).isEqualTo(1);
            // the drifted a repaired (the stand-in takes no server-side apply: a PATCH answered 415, then a PUT), b not
            // written
            assertThat(calls.writes()).filteredOn(c -> c.contains("/namespaces/apps/configmaps")).isNotEmpty()
                    .allSatisfy(c -> assertThat(c).contains("/configmaps/a"));
            assertThat(kube.client().configMaps().inNamespace("apps").withName("a").get().getData()).containsEntry(
                    "value", "1");
        } finally {
            overloaded.stop(0);
        }
    }

    static String message(KubernetesApiStandIn kube, String release) {
        GenericKubernetesResource r = kube.client().genericKubernetesResources(
                "helm.integrations.flux.weave.works/v1alpha2", "FluxHelmRelease").inNamespace("apps").withName(
                        release)
                .get();
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> conditions = (List<Map<String, Object>>) ((Map<String, Object>) r
                .getAdditionalProperties().get("status")).get("conditions");
        return conditions.stream().filter(c -> "Ready".equals(c.get("type"))).map(c -> String.valueOf(c.get(
                "message"))).findFirst().orElse("none");
    }

    static String ready(KubernetesApiStandIn kube, String release) {
        GenericKubernetesResource r = kube.client().genericKubernetesResources(
                "helm.integrations.flux.weave.works/v1alpha2", "FluxHelmRelease").inNamespace("apps").withName(
                        release)
                .get();
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> conditions = (List<Map<String, Object>>) ((Map<String, Object>) r
                .getAdditionalProperties().get("status")).get("conditions");
        return conditions.stream().filter(c -> "Ready".equals(c.get("type"))).map(c -> String.valueOf(c.get(
                "status"))).findFirst().orElse("none");
    }
}
