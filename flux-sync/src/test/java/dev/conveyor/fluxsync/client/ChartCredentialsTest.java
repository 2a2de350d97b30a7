package dev.conveyor.fluxsync.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import dev.conveyor.fluxsync.domain.ChartSource;

/** Which credential a chart source gets, and that a credential never shows in text. */
class ChartCredentialsTest {

    static final ChartCredentials.Credential CONFIGURED = new ChartCredentials.Credential("u", "host-pw-1", null,
            "configuration of charts.example.com");

    final ChartCredentials credentials = new ChartCredentials(Map.of("charts.example.com", CONFIGURED),
            (ns, name) -> switch (name) {
                case "basic" -> Optional.of(Map.of("username", "reader", "password", "secret-pw-2"));
                case "token" -> Optional.of(Map.of("bearerToken", " tok-3\n"));
                case "empty" -> Optional.of(Map.of("username", "reader"));
                default -> Optional.empty();
            });

    @Test
    void theSecretRefWinsOverTheHostAndAHostMatchesWithOrWithoutItsPort() throws Exception {
        ChartCredentials.Credential basic = credentials.of(new ChartSource.HelmRepository(
                "https://charts.example.com/", "c", "1", new ChartSource.SecretRef("ns", "basic"))).orElseThrow();
        assertThat(basic.username()).isEqualTo("reader");
        assertThat(basic.origin()).isEqualTo("Secret ns/basic");
        ChartCredentials.Credential token = credentials.of(new ChartSource.Oci("oci://charts.example.com/c", "1",
                false, new ChartSource.SecretRef("ns", "token"))).orElseThrow();
        assertThat(token.authorization()).isEqualTo("Bearer tok-3");
        assertThat(credentials.of(new ChartSource.HelmRepository("https://charts.example.com:8443/x", "c", "1")))
                .contains(CONFIGURED);
        assertThat(credentials.of(new ChartSource.Oci("oci://charts.example.com/c", "1"))).contains(CONFIGURED);
        assertThat(credentials.of(new ChartSource.HelmRepository("https://other.example.com/", "c", "1"))).isEmpty();
        assertThat(credentials.of(new ChartSource.GitPath("charts/c"))).isEmpty();
    }

    @Test
    void aMissingSecretOrKeyIsNamedAndNoCredentialShowsInText() {
        assertThatThrownBy(() -> credentials.of(new ChartSource.HelmRepository("https://x/", "c", "1",
                new ChartSource.SecretRef("ns", "gone")))).isInstanceOf(ChartCredentials.Unavailable.class)
                .hasMessageContaining("Secret ns/gone").hasMessageContaining("does not exist");
        assertThatThrownBy(() -> credentials.of(new ChartSource.HelmRepository("https://x/", "c", "1",
                new ChartSource.SecretRef("ns", "empty")))).hasMessageContaining("no username and password");

        assertThat(CONFIGURED.toString()).doesNotContain("host-pw-1").contains("configuration of");
        String basic = CONFIGURED.authorization().substring("Basic ".length());
        assertThat(CONFIGURED.scrub("login failed for u:host-pw-1 (" + basic + ")")).isEqualTo(
                "login failed for u:*** (***)");
    }
}
