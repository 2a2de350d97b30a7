package dev.conveyor.promoter.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.PromotionMode;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitServers;

/**
 * An input delivered again after a newer run of the app was promoted — what a restarted promoter gets when it was
 * killed before its offsets were committed — changes nothing: the GitOps branch is not rolled back to the older version,
 * and the same event is emitted, naming the commit that promoted it the first time.
 */
class RedeliveredPromotionIT {

    @Test
    void anOlderRunDeliveredAgainAfterANewerOneIsNotPromotedTwice() throws Exception {
        try (GitServers git = GitServers.start(false); GitAccess access = Fixtures.access()) {
            BareRepo app = git.repos().createBare("shop/till");
            String older = Fixtures.seedApp(app, "till", "blue");
            String newer = Fixtures.seedApp(app, "till", "green");
            BareRepo gitops = git.repos().createBare("team/gitops-till");
            Fixtures.seedGitops(gitops, "till");
            String gitopsUrl = git.daemon().url(gitops);
            Path dir = Fixtures.tempDir("promoter-redelivery");
            ManifestsValidated first = Fixtures.validated("till", git.daemon().url(app), older, "till", "1.4.0");
            ManifestsValidated second = Fixtures.validated("till", git.daemon().url(app), newer, "till", "1.5.0");
            PromotionService service = Fixtures.service(dir.resolve("before"), access, List.of(), List.of(Fixtures
                    .target("staging", gitopsUrl, "shop", PromotionMode.AUTO, "till")), null, 10);

            List<ConveyorEvent> promotedFirst = service.promote(first, "cause-1");
            service.promote(second, "cause-2");
            String tip = gitops.head("main").orElseThrow();
            // The restarted replica: fresh mirrors, the older input again.
            PromotionService restarted = Fixtures.service(dir.resolve("after"), access, List.of(), List.of(Fixtures
                    .target("staging", gitopsUrl, "shop", PromotionMode.AUTO, "till")), null, 10);
            List<ConveyorEvent> again = restarted.promote(first, "cause-1");

            assertThat(gitops.head("main")).as("no new GitOps commit").contains(tip);
            assertThat(Fixtures.read(gitops, "main", "releases/helm/shop/till.yaml").orElseThrow()).contains(
                    "tag: \"1.5.0\"");
            assertThat(Fixtures.messages(gitops, "main")).filteredOn(m -> m.contains(first.run().runId()))
                    .hasSize(1);
            assertThat(((ReleasePromoted) again.get(again.size() - 1)).gitopsCommit()).isEqualTo(
                    ((ReleasePromoted) promotedFirst.get(promotedFirst.size() - 1)).gitopsCommit());
        }
    }
}
