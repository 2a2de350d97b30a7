package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.conveyor.events.v1.ChartPublished;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.testkit.git.GitRepos;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * The local stack where no OCI registry can run: images go to an OCI image layout (built from a base image tarball),
 * charts to a chart repository kept in git, and a commit still reaches the cluster.
 */
class LocalStackWithoutRegistryIT {

    @TempDir
    static Path data;

    static LocalStack stack;
    static Demo demo;
    static LocalStack.Running running;

    @BeforeAll
    static void up() throws IOException {
        stack = TestStacks.stack(data, System.out).withoutRegistry();
        running = stack.up(Optional.empty());
        demo = new Demo(running, stack.layout(), System.out);
    }

    @AfterAll
    static void down() {
        if (stack != null) {
            stack.down();
            assertThat(stack.isUp()).isFalse();
        }
    }

    @Test
    void aCommitReachesTheClusterWithItsImageInAnOciLayoutAndItsChartInGit() throws Exception {
        assertThat(running.stack()).doesNotContainKey(StackLayout.REGISTRY);
        Pipeline.RunEvents run = demo.cd(2, "feat: SHOP-2 works without a registry");
        assertThat(run.succeeded()).as("run ended healthy: %s", run.events()).isTrue();

        VersionResolved version = run.one(VersionResolved.class);
        ImagePushed image = run.one(ImagePushed.class);
        Path layout = Path.of(running.stack().get(StackLayout.IMAGE_LAYOUT));
        assertThat(image.repository()).isEqualTo("oci-layout:" + layout + "/conveyor-demo/shop");
        assertThat(layout.resolve("oci-layout")).exists();
        // skopeo reads the image back from the layout, with the digest the event names.
        Process skopeo = new ProcessBuilder("skopeo", "inspect", "oci:" + layout + ":conveyor-demo/shop:" + version
                .version()).redirectErrorStream(true).start();
        String inspected = new String(skopeo.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(skopeo.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(skopeo.exitValue()).as(inspected).isZero();
        JsonNode json = new ObjectMapper().readTree(inspected);
        assertThat(json.path("Digest").asText()).isEqualTo(image.digest());

        // The chart in the git chart repository's index.
        ChartPublished chart = run.one(ChartPublished.class);
        try (GitRepos repos = GitRepos.at(stack.layout().gitDir())) {
            var charts = repos.open(SampleApp.CHARTS_REPO);
            String head = charts.head("main").orElseThrow();
            String index = LocalStackIT.fileAt(charts, head, "index.yaml");
            assertThat(index).contains("version: " + chart.chartVersion()).contains(chart.chartDigest().replace(
                    "sha256:", ""));
        }

        // And the release in the cluster, with the image digest.
        ReleasePromoted promoted = run.one(ReleasePromoted.class);
        assertThat(demo.app().gitopsRepo().head("main")).contains(promoted.gitopsCommit());
        try (KubernetesClient kube = demo.kubeClient()) {
            Deployment live = kube.apps().deployments().inNamespace("shop").withName("shop").get();
            assertThat(live.getSpec().getTemplate().getSpec().getContainers().get(0).getImage()).endsWith("@"
                    + image.digest());
        }
        assertThat(List.of(run.hookToSynced())).doesNotContainNull();
    }
}
