package dev.conveyor.gateway.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.conveyor.events.v1.Artifact;
import dev.conveyor.events.v1.BuildFailed;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.RunIds;
import dev.conveyor.events.v1.TestSummary;

class JenkinsHooksTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final Instant NOW = Instant.parse("2026-03-01T10:00:00Z");
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    static final String SHA = "ab".repeat(32);

    static ObjectNode success() throws Exception {
        return (ObjectNode) JSON.readTree("""
                {"result": "SUCCESS", "repoUrl": "https://git.example.com/org/Shop.git", "commit": "%s",
                 "branch": "main", "buildUrl": "https://jenkins.example.com/job/shop/12/",
                 "artifact": {"url": "https://jenkins.example.com/job/shop/12/artifact/app.jar", "sha256": "%s",
                              "sizeBytes": 2048, "kind": "jar"},
                 "tests": {"passed": 40, "failed": 0, "skipped": 2}, "lint": {"errors": 0, "warnings": 3}}
                """.formatted(COMMIT, SHA));
    }

    static HookRejectedException rejected(JsonNode hook) {
        return catchThrowableOfType(HookRejectedException.class, () -> JenkinsHooks.toEvent(hook, NOW));
    }

    @Test
    void aSuccessfulBuildOnTheDefaultBranchStartsACdRun() throws Exception {
        BuildSucceeded event = (BuildSucceeded) JenkinsHooks.toEvent(success(), NOW);

        assertThat(event.run().app()).isEqualTo("shop");
        assertThat(event.run().flow()).isEqualTo(Flow.CD);
        assertThat(event.run().attempt()).isEqualTo(1);
        assertThat(event.run().runId())
                .isEqualTo(RunIds.of("https://git.example.com/org/Shop.git", COMMIT, Flow.CD, null));
        assertThat(event.artifact()).isEqualTo(new Artifact(
                "https://jenkins.example.com/job/shop/12/artifact/app.jar", SHA, 2048L, "jar"));
        assertThat(event.tests()).isEqualTo(new TestSummary(40, 0, 2, 0, 3));
        assertThat(event.occurredAt()).isEqualTo(NOW);
        assertThat(event.causationId()).isNull();
    }

    @Test
    void aPullRequestBuildIsCiAndNamedAppsWin() throws Exception {
        ObjectNode hook = success().put("pullRequest", 42).put("pullRequestTitle", "ABC-9 cart")
                .put("app", "shop-api").put("branch", "feature/cart");
        BuildSucceeded event = (BuildSucceeded) JenkinsHooks.toEvent(hook, NOW);

        assertThat(event.run().flow()).isEqualTo(Flow.CI);
        assertThat(event.run().pullRequest()).isEqualTo(42);
        assertThat(event.run().app()).isEqualTo("shop-api");
        assertThat(event.pullRequestTitle()).isEqualTo("ABC-9 cart");
    }

    @Test
    void aFailedBuildNeedsNoArtifact() throws Exception {
        ObjectNode hook = success().put("result", "FAILURE").put("failedStep", "lint");
        hook.remove("artifact");
        BuildFailed event = (BuildFailed) JenkinsHooks.toEvent(hook, NOW);

        assertThat(event.failedStep()).isEqualTo("lint");
        assertThat(event.reason()).isEqualTo("the lint step failed");
        assertThat(event.tests().lintWarnings()).isEqualTo(3);
    }

    @Test
    void everyBadFieldIsNamedAtOnce() throws Exception {
        ObjectNode hook = success().put("commit", "abc").put("buildUrl", "ftp://jenkins/1").put("pullRequest", 0)
                .put("branch", " ");
        ((ObjectNode) hook.get("artifact")).put("sha256", "XYZ").put("kind", "war");
        ((ObjectNode) hook.get("tests")).put("failed", -1);

        assertThat(rejected(hook).errors()).extracting(FieldError::field).containsExactlyInAnyOrder("commit",
                "buildUrl", "pullRequest", "branch", "artifact.sha256", "artifact.kind", "tests.failed");
    }

    @Test
    void missingFieldsAndWrongTypesAreNamed() throws Exception {
        assertThat(rejected(JSON.readTree("{\"result\": 1}")).errors()).extracting(FieldError::field)
                .containsExactlyInAnyOrder("result", "repoUrl", "commit", "branch", "buildUrl");
        ObjectNode noArtifact = success();
        noArtifact.remove("artifact");
        assertThat(rejected(noArtifact).errors()).containsExactly(
                new FieldError("artifact", "is required when result is SUCCESS"));
        assertThat(rejected(success().put("result", "UNSTABLE")).errors()).extracting(FieldError::field)
                .containsExactly("result");
        assertThatThrownBy(() -> JenkinsHooks.toEvent(JSON.readTree("[1]"), NOW))
                .isInstanceOf(HookRejectedException.class).hasMessageContaining("JSON object");
    }

    @Test
    void credentialsInUrlsAreRefusedWithoutEchoingThem() throws Exception {
        ObjectNode hook = success().put("repoUrl", "https://bot:s3cr3t@git.example.com/org/shop.git");
        ((ObjectNode) hook.get("artifact")).put("url", "https://u:p4ss@jenkins.example.com/a.jar");
        HookRejectedException e = rejected(hook);

        assertThat(e.errors()).extracting(FieldError::field).containsExactlyInAnyOrder("repoUrl", "artifact.url");
        assertThat(e.getMessage()).doesNotContain("s3cr3t", "p4ss").contains("credentials");
        assertThat(rejected(success().put("repoUrl", "https://x-access-token@git.example.com/org/shop.git"))
                .errors()).extracting(FieldError::field).containsExactly("repoUrl");
        assertThat(rejected(success().put("repoUrl", "ssh://git:pw@git.example.com/org/shop.git")).errors())
                .extracting(FieldError::field).containsExactly("repoUrl");
    }

    @Test
    void sshUsersAreNotCredentials() throws Exception {
        assertThat(JenkinsHooks.toEvent(success().put("repoUrl", "ssh://git@git.example.com/org/shop.git"), NOW)
                .run().app()).isEqualTo("shop");
        assertThat(JenkinsHooks.toEvent(success().put("repoUrl", "git@github.com:org/shop.git"), NOW).run().app())
                .isEqualTo("shop");
    }

    @Test
    void theSameHookGivesTheSameRunAndARebuildTheNextAttempt() throws Exception {
        var first = JenkinsHooks.toEvent(success(), NOW);
        var again = JenkinsHooks.toEvent(success(), NOW.plusSeconds(60));
        var rebuild = JenkinsHooks.toEvent(success(), NOW, 2);

        assertThat(again.run()).isEqualTo(first.run());
        assertThat(rebuild.run()).isEqualTo(first.run().nextAttempt());
    }

    @Test
    void signaturesAndTokensAreCheckedExactly() {
        byte[] body = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
        String signature = HookSignature.sign(body, "secret");

        assertThat(signature).matches("sha256=[0-9a-f]{64}");
        assertThat(HookSignature.verify(body, signature, "secret")).isTrue();
        assertThat(HookSignature.verify(body, signature.toUpperCase().replace("SHA256", "sha256"), "secret"))
                .isTrue();
        assertThat(HookSignature.verify(body, signature, "other")).isFalse();
        assertThat(HookSignature.verify("{\"a\":2}".getBytes(StandardCharsets.UTF_8), signature, "secret"))
                .isFalse();
        assertThat(HookSignature.verify(body, signature.substring(7), "secret")).isFalse();
        assertThat(HookSignature.verify(body, null, "secret")).isFalse();
        assertThat(HookSignature.bearerMatches("Bearer tok", "tok")).isTrue();
        assertThat(HookSignature.bearerMatches("bearer tok", "tok")).isTrue();
        assertThat(HookSignature.bearerMatches("Bearer tok2", "tok")).isFalse();
        assertThat(HookSignature.bearerMatches("Basic tok", "tok")).isFalse();
        assertThat(HookSignature.bearerMatches(null, "tok")).isFalse();
    }

    @Test
    void fieldsTheResultDoesNotUseAndUnknownFieldsAreRefusedNotCarried() throws Exception {
        assertThat(rejected(success().put("reason", "fine")).errors()).containsExactly(
                new FieldError("reason", "is not used when result is SUCCESS"));
        ObjectNode failure = success().put("result", "FAILURE").put("failedStep", "test");
        assertThat(rejected(failure).errors()).extracting(FieldError::field).containsExactly("artifact");
        assertThat(rejected(success().put("deployTo", "prod")).errors()).extracting(FieldError::field)
                .containsExactly("deployTo");
        ObjectNode nested = success();
        ((ObjectNode) nested.get("artifact")).put("password", "x");
        ((ObjectNode) nested.get("tests")).put("flaky", 1);
        assertThat(rejected(nested).errors()).extracting(FieldError::field)
                .containsExactlyInAnyOrder("artifact.password", "tests.flaky");
    }

    @Test
    void aFieldOverItsOwnLimitIsTooLargeAndNamed() throws Exception {
        HookRejectedException e = rejected(success().put("result", "FAILURE").put("failedStep", "test")
                .put("reason", "r".repeat(2049)).without("artifact"));
        assertThat(e.tooLarge()).isTrue();
        assertThat(e.errors()).extracting(FieldError::field).containsExactly("reason");
        assertThat(rejected(success().put("branch", "b".repeat(256))).errors()).extracting(FieldError::field)
                .containsExactly("branch");
        assertThat(rejected(success().put("deployTo", "x")).tooLarge()).isFalse();
    }

    @Test
    void errorsNeverEchoAHugeNameAndAreCapped() throws Exception {
        ObjectNode hook = success();
        hook.put("n".repeat(10_000), 1);
        for (int i = 0; i < 100; i++) {
            hook.put("extra" + i, i);
        }
        List<FieldError> errors = rejected(hook).errors();
        assertThat(errors).hasSize(21);
        assertThat(errors).allSatisfy(err -> assertThat(err.field().length()).isLessThanOrEqualTo(65));
        assertThat(errors.get(20)).isEqualTo(new FieldError("$", "81 more error(s) not listed"));
    }

    @Test
    void controlCharactersAndBranchesThatAreNoGitBranchAreRefused() throws Exception {
        for (String branch : List.of("--upload-pack=id", "main..evil", "a b", "x\u0000y", "feat/", "a.lock", "@{-1}x",
                "a:b")) {
            assertThat(rejected(success().put("branch", branch)).errors()).as(branch).extracting(FieldError::field)
                    .containsExactly("branch");
        }
        assertThat(JenkinsHooks.toEvent(success().put("branch", "feature/ABC-1_cart.v2"), NOW).run().branch())
                .isEqualTo("feature/ABC-1_cart.v2");
        assertThat(rejected(success().put("pullRequest", 1).put("pullRequestTitle", "evil \u001b[31m red"))
                .errors()).extracting(FieldError::field).containsExactly("pullRequestTitle");
        assertThat(rejected(success().put("pullRequest", 1).put("pullRequestTitle", "\u202egnp.exe")).errors())
                .extracting(FieldError::field).containsExactly("pullRequestTitle");
        ObjectNode failure = success().put("result", "FAILURE").put("failedStep", "test")
                .put("reason", "3 failed:\n\ta\n\tb");
        failure.remove("artifact");
        assertThat(((dev.conveyor.events.v1.BuildFailed) JenkinsHooks.toEvent(failure, NOW)).reason())
                .isEqualTo("3 failed:\n\ta\n\tb");
        assertThat(rejected(failure.put("failedStep", "te\nst")).errors()).extracting(FieldError::field)
                .containsExactly("failedStep");
    }
}
