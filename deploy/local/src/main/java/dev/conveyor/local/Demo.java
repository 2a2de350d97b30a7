package dev.conveyor.local;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.conveyor.events.v1.ChartPublished;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.events.v1.VersionResolved;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

/**
 * The demo: a developer's commit on {@code main} goes all the way to the cluster (CD flow), then a pull request is
 * built, rendered and diffed (CI flow). Each run is followed live; the end is a summary of where everything landed.
 */
public final class Demo {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The stubs speak HTTP/1.1: a client that offers an upgrade to h2c got the journal's JSON read as HTTP/2 frames
     * ({@code Frame type(67) ... exceeds MAX_FRAME_SIZE}, seen once in {@code LocalStackIT}).
     */
    private static final HttpClient STUBS_HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    static final Duration RUN_TIMEOUT = Duration.ofMinutes(5);

    private final LocalStack.Running stack;
    private final SampleApp app;
    private final Pipeline pipeline;
    private final PrintStream out;

    public Demo(LocalStack.Running stack, StackLayout layout, PrintStream out) {
        this.stack = stack;
        this.app = new SampleApp(layout);
        this.pipeline = new Pipeline(stack);
        this.out = out;
    }

    public SampleApp app() {
        return app;
    }

    public Pipeline pipeline() {
        return pipeline;
    }

    public String appRepoUrl() {
        return stack.stack().get(StackLayout.GIT) + SampleApp.APP_REPO;
    }

    /** A CD run: a commit on main, its build, its hook, followed to the end. */
    public Pipeline.RunEvents cd(int change, String message) {
        String commit = app.change("main", change, message);
        out.printf("%nCD run: commit %s on main \"%s\"%n", Pipeline.abbrev(commit), message);
        SampleApp.Artifact artifact = app.build(commit);
        Pipeline.Accepted accepted = pipeline.hook(appRepoUrl(), commit, "main", null, null, artifact, change);
        out.printf("  hook accepted: run %s%n", accepted.runId());
        return pipeline.follow(accepted.runId(), accepted.attempt(), Flow.CD, accepted.sentAt(), RUN_TIMEOUT, out);
    }

    /** A CI run: a commit on a feature branch with an open pull request. */
    public Pipeline.RunEvents pr(int change, String branch, int number, String title) {
        String commit = app.change(branch, change, "feat: " + title);
        out.printf("%nCI run: pull request #%d \"%s\", commit %s on %s%n", number, title, Pipeline.abbrev(commit),
                branch);
        SampleApp.Artifact artifact = app.build(commit);
        Pipeline.Accepted accepted = pipeline.hook(appRepoUrl(), commit, branch, number, title, artifact, 100 + change);
        out.printf("  hook accepted: run %s%n", accepted.runId());
        return pipeline.follow(accepted.runId(), accepted.attempt(), Flow.CI, accepted.sentAt(), RUN_TIMEOUT, out);
    }

    /** Replays a run from a stage through the gateway and follows the new attempt. */
    public Pipeline.RunEvents replay(String runId, String from, Flow flow) {
        out.printf("%nReplay of run %s from %s%n", runId, from);
        java.time.Instant sent = java.time.Instant.now();
        int attempt = pipeline.replay(runId, from);
        out.printf("  attempt %d%n", attempt);
        return pipeline.follow(runId, attempt, flow, sent, RUN_TIMEOUT, out);
    }

    /** Objects in the cluster that flux-sync manages, by kind, in the sample namespace. */
    public Map<String, List<String>> clusterObjects() {
        Map<String, List<String>> objects = new TreeMap<>();
        try (KubernetesClient kube = kubeClient()) {
            add(objects, kube.namespaces().withLabel("conveyor.dev/repo").list().getItems());
            String ns = SampleApp.NAMESPACE;
            add(objects, kube.apps().deployments().inNamespace(ns).list().getItems());
            add(objects, kube.services().inNamespace(ns).list().getItems());
            add(objects, kube.configMaps().inNamespace(ns).withLabel("conveyor.dev/repo").list().getItems());
            add(objects, kube.limitRanges().inNamespace(ns).list().getItems());
        }
        return objects;
    }

    public KubernetesClient kubeClient() {
        try {
            Config config = Config.fromKubeconfig(Files.readString(Path.of(stack.stack().get(
                    StackLayout.KUBECONFIG))));
            return new KubernetesClientBuilder().withConfig(config).build();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the kubeconfig", e);
        }
    }

    private static void add(Map<String, List<String>> objects, List<? extends HasMetadata> items) {
        for (HasMetadata item : items) {
            String ns = item.getMetadata().getNamespace();
            objects.computeIfAbsent(item.getKind(), k -> new ArrayList<>()).add(ns == null
                    ? item.getMetadata()
                            .getName()
                    : ns + "/" + item.getMetadata().getName());
        }
    }

    /** Requests the notification stubs received, as {@code METHOD path}, in order. */
    public List<String> notifications() {
        try {
            HttpResponse<String> r = STUBS_HTTP.send(HttpRequest.newBuilder(URI.create(stack.stack()
                    .get(StackLayout.STUBS) + "/__admin/requests")).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            JsonNode requests = JSON.readTree(r.body()).path("requests");
            List<String> calls = new ArrayList<>();
            for (JsonNode req : requests) {
                calls.add(req.path("request").path("method").asText() + " " + req.path("request").path("url")
                        .asText());
            }
            java.util.Collections.reverse(calls);
            return calls;
        } catch (IOException e) {
            throw new IllegalStateException("the notification stubs did not answer", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Notification calls by provider: GitHub, Slack, JIRA. */
    public Map<String, Long> notificationCounts() {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (String call : notifications()) {
            String path = call.substring(call.indexOf(' ') + 1);
            String provider = path.startsWith("/github")
                    ? "GitHub"
                    : path.startsWith("/slack")
                            ? "Slack"
                            : path.startsWith("/jira") ? "JIRA" : "other";
            counts.merge(provider, 1L, Long::sum);
        }
        return counts;
    }

    /** The summary the demo ends with. */
    public void summary(Pipeline.RunEvents cd, Pipeline.RunEvents ci) {
        VersionResolved version = cd.one(VersionResolved.class);
        ImagePushed image = cd.one(ImagePushed.class);
        ManifestsValidated manifests = cd.one(ManifestsValidated.class);
        ChartPublished chart = cd.one(ChartPublished.class);
        ReleasePromoted promoted = cd.one(ReleasePromoted.class);
        RepoSynced synced = cd.one(RepoSynced.class);
        out.println();
        out.println("Summary");
        row("CD run", cd.runId() + (cd.succeeded() ? "  succeeded" : "  FAILED"));
        row("version", version.version() + (version.tag() == null
                ? ""
                : "  (tag " + version.tag() + " in "
                        + appRepoUrl() + ")"));
        row("image", image.repository() + ":" + version.version() + "@" + image.digest());
        row("manifests commit", manifests.manifestsCommit() + "  (" + manifests.objectCount() + " objects)");
        row("chart", chart.chartName() + " " + chart.chartVersion() + "  " + String.join(", ", chart
                .repositories()));
        row("GitOps commit", promoted.gitopsCommit() + "  " + promoted.gitopsRepo());
        row("synced", "revision " + Pipeline.abbrev(synced.revision()) + "  " + synced.objects());
        Map<String, List<String>> objects = clusterObjects();
        row("in the cluster", objects.entrySet().stream().map(e -> e.getValue().size() + " " + e.getKey())
                .reduce((a, b) -> a + ", " + b).orElse("nothing"));
        objects.forEach((kind, names) -> row("", kind + ": " + String.join(", ", names)));
        row("notifications", notificationCounts().toString());
        if (cd.hookToSynced() != null) {
            row("hook -> RepoSynced", String.format("%.1f s", cd.hookToSynced().toMillis() / 1000.0));
        }
        if (ci != null) {
            ManifestsValidated diff = ci.one(ManifestsValidated.class);
            row("CI run", ci.runId() + (ci.succeeded() ? "  succeeded" : "  FAILED") + "  diff of "
                    + (diff.diff() == null ? 0 : diff.diff().lines().count()) + " lines posted to the pull request");
        }
        row("run page", stack.gatewayUrl() + "/#/runs/" + cd.runId());
    }

    private void row(String key, String value) {
        out.printf("  %-20s %s%n", key, value);
    }
}
