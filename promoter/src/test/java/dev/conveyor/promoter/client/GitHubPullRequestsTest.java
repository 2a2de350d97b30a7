package dev.conveyor.promoter.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;

import org.junit.jupiter.api.Test;

import dev.conveyor.stage.StageException;

class GitHubPullRequestsTest {

    @Test
    void ownerAndNameComeFromEveryUrlForm() {
        assertThat(GitHubPullRequests.slug("https://x-access-token:secret@github.com/acme/gitops.git"))
                .isEqualTo(new GitHubPullRequests.RepoSlug("acme", "gitops"));
        assertThat(GitHubPullRequests.slug("git@github.com:acme/gitops.git"))
                .isEqualTo(new GitHubPullRequests.RepoSlug("acme", "gitops"));
        assertThat(GitHubPullRequests.slug("ssh://git@github.com/acme/gitops"))
                .isEqualTo(new GitHubPullRequests.RepoSlug("acme", "gitops"));
        assertThatThrownBy(() -> GitHubPullRequests.slug("https://github.com/gitops"))
                .isInstanceOf(StageException.class);
    }

    @Test
    void pullRequestModeWithoutATokenIsATerminalConfigurationError() {
        assertThatThrownBy(() -> new GitHubPullRequests("http://127.0.0.1:1", Optional.empty()).ensure(
                new GitHubPullRequests.RepoSlug("acme", "gitops"), "conveyor/x", "main", "t", "b"))
                .isInstanceOfSatisfying(StageException.class, e -> assertThat(e.reason()).isEqualTo(
                        "PULL_REQUEST_NOT_CONFIGURED"));
    }
}
