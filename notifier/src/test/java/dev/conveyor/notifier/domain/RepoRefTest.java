package dev.conveyor.notifier.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;

import org.junit.jupiter.api.Test;

class RepoRefTest {

    static final Set<String> GITHUB = Set.of("github.com", "ghe.example.com");
    static final Set<String> GITLAB = Set.of("gitlab.example.com");

    @Test
    void cloneUrlsOfEveryShapeMapToTheirProviderAndPath() {
        assertThat(RepoRef.parse("https://github.com/acme/shop.git", GITHUB, GITLAB))
                .contains(new RepoRef(ProviderKind.GITHUB, "github.com", "acme/shop"));
        assertThat(RepoRef.parse("git@GitHub.com:acme/shop.git", GITHUB, GITLAB))
                .contains(new RepoRef(ProviderKind.GITHUB, "github.com", "acme/shop"));
        assertThat(RepoRef.parse("ssh://git@ghe.example.com/acme/shop", GITHUB, GITLAB))
                .contains(new RepoRef(ProviderKind.GITHUB, "ghe.example.com", "acme/shop"));
        assertThat(RepoRef.parse("https://gitlab.example.com/group/sub/shop.git", GITHUB, GITLAB))
                .contains(new RepoRef(ProviderKind.GITLAB, "gitlab.example.com", "group/sub/shop"));
    }

    @Test
    void unknownHostsAndMalformedPathsReportNowhere() {
        assertThat(RepoRef.parse("https://bitbucket.org/acme/shop.git", GITHUB, GITLAB)).isEmpty();
        assertThat(RepoRef.parse("https://github.com/acme", GITHUB, GITLAB)).isEmpty();
        assertThat(RepoRef.parse("https://github.com/acme/shop/extra", GITHUB, GITLAB)).isEmpty();
        assertThat(RepoRef.parse("https://gitlab.example.com/group/../x", GITHUB, GITLAB)).isEmpty();
        assertThat(RepoRef.parse("file:///srv/git/shop.git", GITHUB, GITLAB)).isEmpty();
    }

    @Test
    void anEventCannotSteerTheApiCallThroughThePath() {
        // Each would reach another endpoint of the configured API (or carry a query) once put into its URL.
        for (String url : java.util.List.of("https://github.com/acme/shop%3Fper_page=1", "https://github.com/acme/"
                + "shop%23x", "https://github.com/acme/%2e%2e", "git@github.com:acme/shop?x=1",
                "git@github.com:acme/-shop", "https://github.com/acme/sh%20op", "https://github.com/acme//shop",
                "https://gitlab.example.com/group/sub%2F..%2F..%2Fadmin/shop")) {
            assertThat(RepoRef.parse(url, GITHUB, GITLAB)).as(url).isEmpty();
        }
        assertThat(RepoRef.parse("https://github.com/acme/.github.git", GITHUB, GITLAB)).contains(new RepoRef(
                ProviderKind.GITHUB, "github.com", "acme/.github"));
    }

    @Test
    void jiraKeysAreFoundInOrderAndFilteredByProject() {
        assertThat(JiraKeys.in("SHOP-12: cart, fixes SHOP-3 and OPS-4; UTF-8", Set.of()))
                .containsExactly("SHOP-12", "SHOP-3", "OPS-4", "UTF-8");
        assertThat(JiraKeys.in("SHOP-12: cart, fixes SHOP-3 and OPS-4; UTF-8", Set.of("SHOP")))
                .containsExactly("SHOP-12", "SHOP-3");
        assertThat(JiraKeys.in("xSHOP-12 SHOP-012 SHOP-1", Set.of())).containsExactly("SHOP-1");
    }
}
