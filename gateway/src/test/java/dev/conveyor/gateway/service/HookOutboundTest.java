package dev.conveyor.gateway.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.gateway.domain.FieldError;
import dev.conveyor.gateway.domain.HookUrls;
import dev.conveyor.stage.net.OutboundPolicy;

/**
 * The hook refuses, with 400 naming the field and before anything is published, every URL the outbound policy
 * refuses: the hostile repoUrls and artifact URLs of issue 16.
 */
class HookOutboundTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final Path ARTIFACTS = Path.of("/var/lib/conveyor/artifacts");

    final List<ConveyorEvent> published = new CopyOnWriteArrayList<>();
    /** The production settings of the gateway's application.properties. */
    final OutboundPolicy policy = OutboundPolicy.builder().schemes(List.of("https", "ssh", "file")).fileRoots(List.of(
            ARTIFACTS)).build();
    final HookService hooks = new HookService(new RunReadModel(), published::addAll, Clock.fixed(Instant.parse(
            "2026-01-01T00:00:00Z"), ZoneOffset.UTC), new HookUrls(policy));

    static ObjectNode hook(String repoUrl, String artifactUrl) {
        ObjectNode hook = JSON.createObjectNode().put("result", "SUCCESS").put("repoUrl", repoUrl).put("commit", "a"
                .repeat(40)).put("branch", "main").put("app", "shop").put("buildUrl",
                        "https://jenkins.example.com/job/shop/1/");
        hook.putObject("artifact").put("url", artifactUrl).put("sha256", "ab".repeat(32)).put("kind", "jar");
        return hook;
    }

    List<FieldError> rejected(ObjectNode hook) {
        GatewayException e = catchThrowableOfType(GatewayException.class, () -> hooks.receive(hook.toString()
                .getBytes(StandardCharsets.UTF_8)));
        assertThat(e).as("refused").isNotNull();
        assertThat(e.reason()).isEqualTo(GatewayFailure.INVALID_HOOK);
        assertThat(published).isEmpty();
        return e.errors();
    }

    @ParameterizedTest
    @ValueSource(strings = {"file:///etc", "file:///proc/self/environ", "file:///work/.conveyor/secrets.env",
            "http://169.254.169.254/latest/meta-data/", "https://169.254.169.254/latest/meta-data/",
            "ssh://-oProxyCommand=touch%20%2Ftmp%2Fpwned@git.example.com/org/shop.git",
            "git@git.example.com:--upload-pack=touch%20%2Ftmp%2Fpwned", "ext::sh -c touch% /tmp/pwned",
            "https://127.0.0.1:8080/q/metrics", "https://[::1]/org/shop.git", "https://10.0.0.7/org/shop.git",
            "https://metadata.google.internal/computeMetadata/v1/"})
    void aHostileRepoUrlIsRefusedNamingTheField(String repoUrl) {
        List<FieldError> errors = rejected(hook(repoUrl, "https://jenkins.example.com/job/shop/1/artifact/app.jar"));

        assertThat(errors).extracting(FieldError::field).containsExactly("repoUrl");
        assertThat(errors.get(0).message()).doesNotContain("pwned");
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://127.0.0.1:8080/q/metrics", "https://127.0.0.1:8080/q/metrics",
            "https://169.254.169.254/latest/meta-data/iam/", "file:///etc/passwd", "file:///proc/self/environ",
            "file:///var/lib/conveyor/artifacts/../../../etc/shadow", "https://[fd00:ec2::254]/latest/"})
    void aHostileArtifactUrlIsRefusedNamingTheField(String artifactUrl) {
        List<FieldError> errors = rejected(hook("https://git.example.com/org/shop.git", artifactUrl));

        assertThat(errors).extracting(FieldError::field).contains("artifact.url");
    }

    @Test
    void bothFieldsAreNamedAtOnce() {
        assertThat(rejected(hook("file:///etc", "http://169.254.169.254/"))).extracting(FieldError::field)
                .contains("repoUrl", "artifact.url");
    }

    @Test
    void allowedUrlsArePublished() {
        hooks.receive(hook("git@github.com:org/shop.git", "https://jenkins.example.com/job/shop/1/artifact/app.jar")
                .toString().getBytes(StandardCharsets.UTF_8));
        hooks.receive(hook("https://git.example.com/org/other.git", "file:///var/lib/conveyor/artifacts/shop/app.jar")
                .put("app", "other").toString().getBytes(StandardCharsets.UTF_8));

        assertThat(published).hasSize(2);
    }

    @Test
    void theErrorNamesTheRule() {
        List<FieldError> errors = rejected(hook("https://127.0.0.1/org/shop.git", "https://ci.example.com/a.jar"));
        assertThat(errors.get(0).message()).contains("loopback address");
    }
}
