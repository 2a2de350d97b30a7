package dev.conveyor.stage.git;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class GitUrlsTest {

    @Test
    void userInfoAndTokensAreRemoved() {
        assertThat(GitUrls.redact("https://x-access-token:ghs_secret@github.com/acme/app.git"))
                .isEqualTo("https://github.com/acme/app.git");
        assertThat(GitUrls.redact("https://gitlab.example.com/acme/app.git?private_token=glpat-123&x=1"))
                .isEqualTo("https://gitlab.example.com/acme/app.git?private_token=***&x=1");
        assertThat(GitUrls.redact("ssh://git@github.com/acme/app.git")).isEqualTo("ssh://github.com/acme/app.git");
        assertThat(GitUrls.redact("file:///srv/git/app.git")).isEqualTo("file:///srv/git/app.git");
    }

    @Test
    void urlsInsideMessagesAreScrubbed() {
        assertThat(GitUrls.scrub("https://bob:hunter2@git.example.com/app.git: not authorized"))
                .isEqualTo("https://git.example.com/app.git: not authorized")
                .doesNotContain("hunter2");
    }
}
