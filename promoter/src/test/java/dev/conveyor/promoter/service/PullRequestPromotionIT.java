package dev.conveyor.promoter.service;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.PromotionMode;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.promoter.client.GitHubPullRequests;
import dev.conveyor.promoter.domain.YamlText;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitServers;

/**
 * Pull-request mode for a protected environment: the change is pushed to {@code conveyor/<env>/<release>-<version>} on
 * the real git daemon and a pull request is opened through GitHub's REST API (WireMock, shaped like GitHub's documented
 * endpoints). The base branch is untouched, and a replay finds the open pull request instead of opening another.
 */
class PullRequestPromotionIT {

    static final String TOKEN = "ghp_test-token-never-logged";
    static final String PR_URL = "https://github.com/platform/gitops-prod/pull/7";

    @Test
    void aProtectedEnvironmentGetsOnePullRequestEvenWhenReplayed() {
        WireMockServer github = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
        github.start();
        try (GitServers git = GitServers.start(false); GitAccess access = Fixtures.access()) {
            String head = "conveyor/staging/cart-1.4.0";
            github.stubFor(get(urlPathEqualTo("/repos/platform/gitops-prod/pulls")).inScenario("pr")
                    .whenScenarioStateIs(Scenario.STARTED)
                    .withQueryParam("head", equalTo("platform:" + head)).withQueryParam("state", equalTo("open"))
                    .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                            .withBody("[]")));
            github.stubFor(post(urlPathEqualTo("/repos/platform/gitops-prod/pulls")).inScenario("pr")
                    .whenScenarioStateIs(Scenario.STARTED).willSetStateTo("opened")
                    .willReturn(aResponse().withStatus(201).withHeader("Content-Type", "application/json")
                            .withBody("{\"number\":7,\"state\":\"open\",\"html_url\":\"" + PR_URL + "\"}")));
            github.stubFor(get(urlPathEqualTo("/repos/platform/gitops-prod/pulls")).inScenario("pr")
                    .whenScenarioStateIs("opened")
                    .withQueryParam("head", equalTo("platform:" + head)).withQueryParam("state", equalTo("open"))
                    .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                            .withBody("[{\"number\":7,\"state\":\"open\",\"html_url\":\"" + PR_URL + "\"}]")));

            BareRepo app = git.repos().createBare("shop/cart");
            String commit = Fixtures.seedApp(app, "cart", "blue");
            BareRepo gitops = git.repos().createBare("platform/gitops-prod");
            String base = Fixtures.seedGitops(gitops, "cart");
            ManifestsValidated input = Fixtures.validated("cart", git.daemon().url(app), commit, "cart", "1.4.0");
            PromotionService service = Fixtures.service(Fixtures.tempDir("promoter-pr"), access, List.of(), List.of(
                    Fixtures.target("prod", git.daemon().url(gitops), "shop", PromotionMode.PULL_REQUEST)),
                    new GitHubPullRequests(github.baseUrl(), Optional.of(TOKEN)), 5);

            List<ConveyorEvent> out = service.promote(input, null);

            ReleasePromoted promoted = (ReleasePromoted) out.get(1);
            assertThat(promoted.mode()).isEqualTo(PromotionMode.PULL_REQUEST);
            assertThat(promoted.pullRequestUrl()).isEqualTo(PR_URL);
            assertThat(promoted.gitopsCommit()).isEqualTo(gitops.head(head).orElseThrow());
            assertThat(gitops.head("main")).contains(base);
            assertThat(YamlText.parse("cart.yaml", Fixtures.read(gitops, head, "releases/helm/shop/cart.yaml")
                    .orElseThrow()).string("spec", "values", "image", "tag")).contains("1.4.0");
            assertThat(Fixtures.messages(gitops, head).get(0)).contains("Conveyor-Run: " + input.run().runId());
            github.verify(1, postRequestedFor(urlPathEqualTo("/repos/platform/gitops-prod/pulls"))
                    .withHeader("Authorization", equalTo("Bearer " + TOKEN))
                    .withHeader("Accept", equalTo("application/vnd.github+json"))
                    .withRequestBody(equalToJson("{\"title\":\"Promote cart 1.4.0 to staging/shop\",\"head\":\""
                            + head + "\",\"base\":\"main\"}", true, true)));

            List<ConveyorEvent> again = service.promote(input, null);

            assertThat(PublishAndPromoteIT.withoutTimes(again)).isEqualTo(PublishAndPromoteIT.withoutTimes(out));
            github.verify(1, postRequestedFor(urlPathEqualTo("/repos/platform/gitops-prod/pulls")));
            github.verify(2, getRequestedFor(urlPathEqualTo("/repos/platform/gitops-prod/pulls"))
                    .withHeader("Authorization", equalTo("Bearer " + TOKEN)));
            assertThat(Fixtures.messages(gitops, head)).hasSize(2);

            // Merged (fast-forward) and replayed: the merged commit and the same pull request are reported.
            gitops.writer().file("releases/helm/shop/cart.yaml", Fixtures.read(gitops, head,
                    "releases/helm/shop/cart.yaml").orElseThrow()).file("charts/cart/Chart.yaml", Fixtures.read(
                            gitops, head, "charts/cart/Chart.yaml").orElseThrow())
                    .file("charts/cart/values.yaml", Fixtures.read(gitops, head, "charts/cart/values.yaml")
                            .orElseThrow())
                    .file("charts/cart/templates/configmap.yaml", Fixtures.read(gitops, head,
                            "charts/cart/templates/configmap.yaml").orElseThrow())
                    .message("Merge pull request #7").commit();
            github.stubFor(get(urlPathEqualTo("/repos/platform/gitops-prod/pulls")).inScenario("pr")
                    .whenScenarioStateIs("opened").withQueryParam("state", equalTo("all"))
                    .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                            .withBody("[{\"number\":7,\"state\":\"closed\",\"html_url\":\"" + PR_URL + "\"}]")));
            ReleasePromoted merged = (ReleasePromoted) service.promote(input, null).get(1);
            assertThat(merged.pullRequestUrl()).isEqualTo(PR_URL);
            assertThat(merged.gitopsCommit()).isEqualTo(gitops.head("main").orElseThrow());
            github.verify(1, postRequestedFor(urlPathEqualTo("/repos/platform/gitops-prod/pulls")));
        } finally {
            github.stop();
        }
    }
}
