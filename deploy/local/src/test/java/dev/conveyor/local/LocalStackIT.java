package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.conveyor.deploy.grafana.DashboardMetrics;
import dev.conveyor.deploy.grafana.Exposition;
import dev.conveyor.events.cdevents.CdEvents;
import dev.conveyor.events.v1.ChartPublished;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.events.v1.StageFailed;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.testkit.cdevents.CdEventSchemas;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.prometheus.PrometheusServer;
import dev.conveyor.testkit.registry.Skopeo;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * The end-to-end proof of the seed workflow: the local stack exactly as {@code ./conveyor up} starts it (the broker in
 * its own JVM, the registry, the git daemon, the API stand-in, the notification stubs, every service from its packaged
 * {@code quarkus-app} in its own process), driven by Jenkins hooks, with every effect checked where it lives.
 */
class LocalStackIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path data;

    static LocalStack stack;
    static LocalStack.Running running;
    static Demo demo;
    static final ByteArrayOutputStream progress = new ByteArrayOutputStream();

    @BeforeAll
    static void up() throws IOException {
        Path project = Path.of(System.getProperty("conveyor.project.dir")).toAbsolutePath().normalize();
        Path target = project.resolve("deploy/local/target");
        String classpath = target.resolve("classes") + ":" + Files.readString(target.resolve("classpath.txt"))
                .trim();
        PrintStream out = new PrintStream(new TeeStream(System.out, progress), true, StandardCharsets.UTF_8);
        stack = new LocalStack(project, data, classpath, out);
        running = stack.up(Optional.empty());
        demo = new Demo(running, stack.layout(), out);
    }

    @AfterAll
    static void down() {
        if (stack == null) {
            return;
        }
        var pids = stack.layout().processes().entrySet().stream().filter(e -> e.getKey().endsWith(".pid")).map(
                e -> Long.parseLong(e.getValue())).toList();
        List<String> stopped = stack.down();
        assertThat(stopped).contains("gateway", "flux-sync", "stack-host");
        assertThat(pids).isNotEmpty().noneMatch(LocalStack::alive);
        assertThat(stack.isUp()).isFalse();
    }

    @Test
    void aCommitOnMainGoesFromTheHookToTheClusterWithEveryEffectWhereItLives() throws Exception {
        int change = demo.app().appRepo().commits("main").size() + 1;
        Pipeline.RunEvents run = demo.cd(change, "feat: SHOP-" + change + " free shipping");

        assertThat(run.succeeded()).as("run ended healthy: %s", run.events()).isTrue();
        assertThat(run.hookToSynced()).isNotNull();
        String commit = run.one(VersionResolved.class).run().commit();

        // The tag, in the app remote.
        VersionResolved version = run.one(VersionResolved.class);
        assertThat(version.tag()).isEqualTo("v" + version.version());
        assertThat(demo.app().appRepo().tags()).anySatisfy(t -> {
            assertThat(t.name()).isEqualTo(version.tag());
            assertThat(t.commitId()).isEqualTo(commit);
        });

        // The image, in the registry (skopeo reads it back), with the digest the event names.
        ImagePushed image = run.one(ImagePushed.class);
        String registry = running.stack().get(StackLayout.REGISTRY);
        assertThat(image.repository()).isEqualTo(registry + "/conveyor-demo/shop");
        JsonNode inspected = Skopeo.parse(Skopeo.create().inspect(image.repository() + ":" + version.version()));
        assertThat(inspected.path("Digest").asText()).isEqualTo(image.digest());

        // The manifests commit, in the app remote, rendering that image.
        ManifestsValidated manifests = run.one(ManifestsValidated.class);
        assertThat(manifests.manifestsCommit()).isNotNull();
        String deployment = fileAt(demo.app().appRepo(), manifests.manifestsCommit(), "manifests/");
        assertThat(deployment).contains(image.digest()).contains("kind: Deployment");

        // The chart, in the OCI chart repository, with the package digest the event names.
        ChartPublished chart = run.one(ChartPublished.class);
        assertThat(chart.chartVersion()).isEqualTo(version.version());
        JsonNode chartManifest = JSON.readTree(get("http://" + registry + "/v2/charts/shop/manifests/"
                + chart.chartVersion(), "application/vnd.oci.image.manifest.v1+json"));
        assertThat(chartManifest.path("layers").get(0).path("digest").asText()).isEqualTo(chart.chartDigest());

        // The release, in the GitOps remote: chart and image promoted, the run in the trailer.
        ReleasePromoted promoted = run.one(ReleasePromoted.class);
        BareRepo gitops = demo.app().gitopsRepo();
        assertThat(gitops.head("main")).contains(promoted.gitopsCommit());
        assertThat(gitops.commits("main").get(0).shortMessage()).contains("shop").contains(version.version());
        assertThat(fullMessage(gitops, promoted.gitopsCommit())).contains("Conveyor-Run: " + run.runId());
        assertThat(fileAt(gitops, promoted.gitopsCommit(), "releases/helm/shop/")).contains(image.digest());
        assertThat(fileAt(gitops, promoted.gitopsCommit(), "charts/shop/Chart.yaml")).contains("version: "
                + version.version());

        // Synced and healthy; the objects, in the API.
        RepoSynced synced = run.one(RepoSynced.class);
        assertThat(synced.revision()).isEqualTo(promoted.gitopsCommit());
        assertThat(synced.runIds()).contains(run.runId());
        assertThat(run.one(ReleaseHealthy.class).workloads()).contains("Deployment/shop/shop");
        try (KubernetesClient kube = demo.kubeClient()) {
            Deployment live = kube.apps().deployments().inNamespace("shop").withName("shop").get();
            assertThat(live.getSpec().getTemplate().getSpec().getContainers().get(0).getImage()).endsWith("@"
                    + image.digest());
            assertThat(kube.configMaps().inNamespace("shop").withName("shop-settings").get().getData()).containsEntry(
                    "GREETING", "Welcome (change " + change + ")");
            assertThat(kube.services().inNamespace("shop").withName("shop").get()).isNotNull();
            assertThat(kube.limitRanges().inNamespace("shop").withName("shop-defaults").get()).isNotNull();
            GenericKubernetesResource release = kube.genericKubernetesResources(
                    "helm.integrations.flux.weave.works/v1alpha2", "FluxHelmRelease").inNamespace("shop").withName(
                            "shop")
                    .get();
            assertThat(JSON.valueToTree(release.getAdditionalProperties().get("status")).toString()).contains(
                    promoted.gitopsCommit());
        }

        // The notifications, at the stubs: Slack message posted and updated, the JIRA issue commented on.
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(demo.notifications())
                .contains("POST /slack/api/chat.postMessage", "POST /slack/api/chat.update")
                .contains("POST /jira/rest/api/3/issue/SHOP-" + change + "/comment"));

        // The gateway's timeline agrees.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonNode timeline = demo.pipeline().run(run.runId());
            assertThat(timeline.path("status").asText()).isEqualTo("SUCCEEDED");
            assertThat(timeline.path("steps")).allSatisfy(step -> assertThat(step.path("status").asText())
                    .isEqualTo("SUCCEEDED"));
        });
        assertThat(progress.toString(StandardCharsets.UTF_8)).contains("RepoSynced", "ReleaseHealthy");

        // The CDEvents mirror (on in the local stack): the run, as CDEvents on their topic, each valid against its
        // CDEvents schema and linked to the run by its chain and its custom data.
        List<JsonNode> cdEvents = await().atMost(Duration.ofSeconds(60)).until(() -> cdEventsOf(run.runId()),
                events -> events.stream().map(e -> e.at("/context/type").asText()).map(LocalStackIT::typeName)
                        .collect(java.util.stream.Collectors.toSet()).containsAll(List.of("change.merged",
                                "build.finished", "testsuiterun.finished", "artifact.packaged",
                                "artifact.published", "environment.modified", "service.deployed")));
        for (JsonNode cd : cdEvents) {
            assertThat(CdEventSchemas.violations(cd)).as("%s", cd).isEmpty();
            assertThat(cd.at("/context/chainId").asText()).as("%s", cd).isEqualTo(CdEvents.chainId(run.runId()));
            assertThat(cd.at("/customData/conveyor/runId").asText()).as("%s", cd).isEqualTo(run.runId());
        }
        assertThat(cdEvents).filteredOn(cd -> typeName(cd.at("/context/type").asText()).equals(
                "artifact.published")).anySatisfy(cd -> assertThat(cd.at("/subject/id").asText()).contains(
                        image.digest().substring("sha256:".length())));
    }

    /** Every CDEvent of the run on the stack's CDEvents topic, read from its beginning. */
    static List<JsonNode> cdEventsOf(String runId) throws IOException {
        java.util.Properties props = new java.util.Properties();
        props.put("bootstrap.servers", running.stack().get(StackLayout.KAFKA));
        List<JsonNode> found = new java.util.ArrayList<>();
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]>(props,
                new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            var partitions = consumer.partitionsFor("cdevents", Duration.ofSeconds(10)).stream()
                    .map(p -> new org.apache.kafka.common.TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            var end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                for (var record : consumer.poll(Duration.ofMillis(500))) {
                    JsonNode cd = JSON.readTree(record.value());
                    if (runId.equals(cd.at("/customData/conveyor/runId").asText())) {
                        found.add(cd);
                    }
                }
            }
        }
        return found;
    }

    /** {@code dev.cdevents.artifact.published.0.2.0} → {@code artifact.published}. */
    static String typeName(String type) {
        String[] parts = type.split("\\.");
        return parts.length > 3 ? parts[2] + "." + parts[3] : type;
    }

    @Test
    void aPullRequestIsVersionedImagedAndDiffedThenReportedOnThePullRequestWithoutTouchingGitOps() {
        BareRepo gitops = demo.app().gitopsRepo();
        int change = demo.app().appRepo().commits("main").size() + 50;
        int number = 700 + change;
        String gitopsBefore = gitops.head("main").orElseThrow();
        int tagsBefore = demo.app().appRepo().tags().size();

        Pipeline.RunEvents run = demo.pr(change, "feature/SHOP-" + change + "-gift-cards", number, "SHOP-" + change
                + " gift cards");

        assertThat(run.succeeded()).as("CI run ended: %s", run.events()).isTrue();
        VersionResolved version = run.one(VersionResolved.class);
        assertThat(version.version()).contains("-pr." + number);
        assertThat(version.tag()).isNull();
        ManifestsValidated manifests = run.one(ManifestsValidated.class);
        assertThat(manifests.manifestsCommit()).isNull();
        assertThat(manifests.diff()).contains("Welcome (change " + change + ")");
        assertThat(run.all(ReleasePromoted.class)).isEmpty();
        assertThat(demo.app().appRepo().tags()).hasSize(tagsBefore);
        assertThat(gitops.head("main")).contains(gitopsBefore);

        String commit = version.run().commit();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(demo.notifications())
                .contains("POST /github/repos/acme/shop/statuses/" + commit)
                .anyMatch(c -> c.equals("POST /github/repos/acme/shop/issues/" + number + "/comments")));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonNode timeline = demo.pipeline().run(run.runId());
            assertThat(timeline.path("flow").asText()).isEqualTo("CI");
            assertThat(timeline.path("status").asText()).isEqualTo("SUCCEEDED");
        });
    }

    @Test
    void aReplayFromTheMiddleRunsTheLaterStagesAgainAndChangesNothingThatWasDone() throws Exception {
        int change = demo.app().appRepo().commits("main").size() + 1;
        Pipeline.RunEvents first = demo.cd(change, "fix: SHOP-" + change + " rounding");
        assertThat(first.succeeded()).isTrue();
        BareRepo gitops = demo.app().gitopsRepo();
        int gitopsCommits = gitops.commits("main").size();
        int appCommits = demo.app().appRepo().commits("main").size();
        int tags = demo.app().appRepo().tags().size();

        Pipeline.RunEvents replay = demo.replay(first.runId(), "manifest-renderer", Flow.CD);

        assertThat(replay.attempt()).isEqualTo(first.attempt() + 1);
        assertThat(replay.succeeded()).as("replay ended: %s", replay.events()).isTrue();
        assertThat(replay.all(VersionResolved.class)).as("stages before the replayed one do not run").isEmpty();
        assertThat(replay.one(ManifestsValidated.class).manifestsCommit()).isEqualTo(first.one(
                ManifestsValidated.class).manifestsCommit());
        assertThat(replay.one(ChartPublished.class).chartDigest()).isEqualTo(first.one(ChartPublished.class)
                .chartDigest());
        assertThat(replay.one(ReleasePromoted.class).gitopsCommit()).isEqualTo(first.one(ReleasePromoted.class)
                .gitopsCommit());
        assertThat(replay.one(RepoSynced.class).objects().created()).isZero();
        // Idempotent effects: no second tag, manifests commit or GitOps commit.
        assertThat(gitops.commits("main")).hasSize(gitopsCommits);
        assertThat(demo.app().appRepo().commits("main")).hasSize(appCommits);
        assertThat(demo.app().appRepo().tags()).hasSize(tags);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonNode timeline = demo.pipeline().run(first.runId());
            assertThat(timeline.path("attempt").asInt()).isEqualTo(replay.attempt());
            assertThat(timeline.path("status").asText()).isEqualTo("SUCCEEDED");
            // The replay is audited: the operator token's name, the stage, the attempt.
            assertThat(timeline.path("replays")).singleElement().satisfies(audit -> {
                assertThat(audit.path("by").asText()).isEqualTo("operator");
                assertThat(audit.path("from").asText()).isEqualTo("manifest-renderer");
                assertThat(audit.path("attempt").asInt()).isEqualTo(replay.attempt());
            });
        });
        // The run API is not open: without a token, 401.
        HttpResponse<String> anonymous = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                running.gatewayUrl() + "/runs/" + first.runId())).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(anonymous.statusCode()).isEqualTo(401);
    }

    @Test
    void aFailedRunIsReportedAndEveryDashboardAndAlertQueriesOnlyMetricsTheServicesExpose() throws Exception {
        // One run that succeeds and one that fails (the artifact is not what Jenkins said it built), so every
        // counter a dashboard or an alert uses has been created.
        int change = demo.app().appRepo().commits("main").size() + 1;
        assertThat(demo.cd(change, "feat: SHOP-" + change + " coupons").succeeded()).isTrue();
        String commit = demo.app().change("main", change + 1, "fix: SHOP-" + (change + 1) + " typo");
        SampleApp.Artifact real = demo.app().build(commit);
        SampleApp.Artifact tampered = new SampleApp.Artifact(real.url(), "0".repeat(64), real.sizeBytes());
        Pipeline.Accepted accepted = demo.pipeline().hook(demo.appRepoUrl(), commit, "main", null, null, tampered,
                change + 1);
        Pipeline.RunEvents failed = demo.pipeline().follow(accepted.runId(), accepted.attempt(), Flow.CD, accepted
                .sentAt(), Demo.RUN_TIMEOUT, System.out);
        assertThat(failed.succeeded()).isFalse();
        StageFailed failure = failed.one(StageFailed.class);
        assertThat(failure.stage().id()).isEqualTo("image-builder");
        assertThat(failure.reason()).isEqualTo("CHECKSUM_MISMATCH");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(demo.pipeline().run(failed.runId())
                .path("status").asText()).isEqualTo("FAILED"));

        // Every service's real /q/metrics, against every dashboard and alert rule in the repository.
        Path project = Path.of(System.getProperty("conveyor.project.dir")).toAbsolutePath().normalize();
        List<String> expositions = new java.util.ArrayList<>();
        for (ServiceSpec s : ServiceSpec.ALL) {
            expositions.add(get(running.serviceUrl(s.name()) + "/q/metrics", "text/plain"));
        }
        java.util.Set<String> exposed = Exposition.metricNames(expositions);
        DashboardMetrics dashboards = DashboardMetrics.load(project.resolve("deploy/grafana/dashboards"))
                .withRules(List.of(project.resolve("deploy/helm/conveyor/files/alerts.yaml")));
        assertThat(dashboards.dashboards()).hasSizeGreaterThanOrEqualTo(4);
        assertThat(dashboards.check(exposed)).as("queries of metrics no service exposes").isEmpty();

        // Prometheus scraping the stack returns data for every query of the overview dashboard.
        List<PrometheusServer.Target> targets = ServiceSpec.ALL.stream().map(s -> PrometheusServer.Target.quarkus(s
                .name(), "127.0.0.1:" + running.ports().get(s.name()))).toList();
        try (PrometheusServer prometheus = PrometheusServer.start(targets)) {
            prometheus.awaitTargetsUp(Duration.ofSeconds(60));
            for (DashboardMetrics.Query query : dashboards.queries("conveyor-pipeline.json", java.util.Map.of())) {
                await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(prometheus.query(query
                        .expr())).as("%s: %s", query.panel(), query.expr()).isNotEmpty());
            }
        }
    }

    /**
     * The secret-leak scan ({@link LeakScan}) after a CD run, a CI run and a replay of its own: no token of the stack, in
     * any form, in any log, topic record, metrics exposition, run API answer or request the notification stubs got.
     * Then a token planted in a record header is found, so the scan is known to read what it claims to.
     */
    @Test
    void noSecretOfTheStackIsInAnyLogRecordMetricRunAnswerOrStubRequestAfterCdCiAndReplayRuns() throws Exception {
        int change = demo.app().appRepo().commits("main").size() + 1;
        Pipeline.RunEvents cd = demo.cd(change, "feat: SHOP-" + change + " wish lists");
        assertThat(cd.succeeded()).as("CD run ended: %s", cd.events()).isTrue();
        int prChange = change + 70;
        int number = 900 + prChange;
        Pipeline.RunEvents ci = demo.pr(prChange, "feature/SHOP-" + prChange + "-leak-scan", number, "SHOP-" + prChange
                + " wish list sharing");
        assertThat(ci.succeeded()).as("CI run ended: %s", ci.events()).isTrue();
        Pipeline.RunEvents replay = demo.replay(cd.runId(), "manifest-renderer", Flow.CD);
        assertThat(replay.succeeded()).as("replay ended: %s", replay.events()).isTrue();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(demo.notifications())
                .contains("POST /jira/rest/api/3/issue/SHOP-" + change + "/comment", "POST /slack/api/chat.update",
                        "POST /github/repos/acme/shop/issues/" + number + "/comments"));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(demo.pipeline().run(cd.runId()).path(
                "attempt").asInt()).isEqualTo(replay.attempt()));

        java.util.Map<String, String> secrets = StackLayout.read(stack.layout().secretsFile()).orElseThrow();
        assertThat(secrets).containsKeys("hook-token", "api-token", "viewer-token", "webhook-secret", "github-token",
                "slack-token", "jira-token");
        LeakScan scan = new LeakScan(secrets);
        java.util.Map<String, LeakScan.Result> bySource = new java.util.LinkedHashMap<>();
        bySource.put("logs", scan.logs(stack.layout()));
        bySource.put("topics", scan.topics(running.stack().get(StackLayout.KAFKA)));
        bySource.put("metrics", scan.metrics(running));
        bySource.put("run API", scan.runApi(running));
        bySource.put("stub requests", scan.stubRequests(running));
        LeakScan.Result all = LeakScan.Result.empty();
        for (var e : bySource.entrySet()) {
            System.out.printf("  %-14s %7d places %12d bytes %d hits%n", e.getKey(), e.getValue().places(), e
                    .getValue().bytes(), e.getValue().hits().size());
            all = all.plus(e.getValue());
        }
        System.out.println(all.summary(scan.needles().size()));
        bySource.forEach((source, r) -> assertThat(r.places()).as("places scanned in %s", source).isPositive());
        assertThat(all.hits()).as("secrets found (place @offset: secret name (form))").isEmpty();

        // A token planted in a record header, inside a Basic credential: found, by name, in that record.
        String canary = "leak-scan-canary";
        java.util.Properties props = new java.util.Properties();
        props.put("bootstrap.servers", running.stack().get(StackLayout.KAFKA));
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(props,
                new org.apache.kafka.common.serialization.ByteArraySerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            var record = new org.apache.kafka.clients.producer.ProducerRecord<byte[], byte[]>(canary, null, "{}"
                    .getBytes(StandardCharsets.UTF_8));
            record.headers().add("authorization", ("Basic " + java.util.Base64.getEncoder().encodeToString(
                    ("jenkins:" + secrets.get("hook-token")).getBytes(StandardCharsets.UTF_8))).getBytes(
                            StandardCharsets.UTF_8));
            producer.send(record).get();
        }
        LeakScan.Result planted = scan.topics(running.stack().get(StackLayout.KAFKA));
        assertThat(planted.hits()).isNotEmpty().allSatisfy(hit -> {
            assertThat(hit.place()).startsWith("topic " + canary + "-0 offset ").endsWith("header authorization");
            assertThat(hit.secret()).isEqualTo("hook-token");
            assertThat(hit.toString()).doesNotContain(secrets.get("hook-token"));
        });
    }

    static String get(String url, String accept) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).header(
                "Accept", accept).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("GET %s: %s", url, r.body()).isEqualTo(200);
        return r.body();
    }

    /** The content of the first file at or under {@code path} in {@code commit}. */
    static String fileAt(BareRepo repo, String commit, String path) throws IOException {
        try (Repository db = repo.open(); RevWalk walk = new RevWalk(db)) {
            RevCommit c = walk.parseCommit(ObjectId.fromString(commit));
            try (TreeWalk tree = new TreeWalk(db)) {
                tree.addTree(c.getTree());
                tree.setRecursive(true);
                StringBuilder all = new StringBuilder();
                while (tree.next()) {
                    if (tree.getPathString().startsWith(path)) {
                        all.append(new String(db.open(tree.getObjectId(0)).getBytes(), StandardCharsets.UTF_8));
                    }
                }
                assertThat(all).as("files under %s in %s", path, commit).isNotEmpty();
                return all.toString();
            }
        }
    }

    static String fullMessage(BareRepo repo, String commit) throws IOException {
        try (Repository db = repo.open(); RevWalk walk = new RevWalk(db)) {
            return walk.parseCommit(ObjectId.fromString(commit)).getFullMessage();
        }
    }

    /** Progress goes to the test log and is kept for assertions. */
    static final class TeeStream extends java.io.OutputStream {
        private final java.io.OutputStream a;
        private final java.io.OutputStream b;

        TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int c) throws IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }
}
