package dev.conveyor.gateway.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.conveyor.gateway.domain.AccessTokens.Caller;
import dev.conveyor.gateway.domain.AccessTokens.Role;

class AccessTokensTest {

    final AccessTokens tokens = AccessTokens.of(List.of("alice:viewer:" + AccessTokens.hash("alice-secret"),
            " ops:OPERATOR:" + AccessTokens.hash("ops-secret").toUpperCase()));

    @Test
    void aBearerTokenNamesItsCallerByTheHashConfigured() {
        assertThat(tokens.authenticate("Bearer alice-secret")).hasValue(new Caller("alice", Role.VIEWER));
        assertThat(tokens.authenticate("bearer   ops-secret ")).hasValue(new Caller("ops", Role.OPERATOR));
        assertThat(tokens.authenticate("Bearer alice-secreT")).isEmpty();
        assertThat(tokens.authenticate("Basic alice-secret")).isEmpty();
        assertThat(tokens.authenticate("Bearer ")).isEmpty();
        assertThat(tokens.authenticate(null)).isEmpty();
        assertThat(tokens.with("api", Role.OPERATOR, "raw").authenticate("Bearer raw"))
                .hasValue(new Caller("api", Role.OPERATOR));
    }

    @Test
    void anOperatorMayDoWhatAViewerMayButNotTheOtherWayRound() {
        assertThat(Role.OPERATOR.allows(Role.VIEWER)).isTrue();
        assertThat(Role.OPERATOR.allows(Role.OPERATOR)).isTrue();
        assertThat(Role.VIEWER.allows(Role.OPERATOR)).isFalse();
    }

    @Test
    void aBadEntryIsNamedByPositionWithoutEchoingIt() {
        String hash = AccessTokens.hash("x");
        assertThatThrownBy(() -> AccessTokens.of(List.of("a:viewer:" + hash, "the-token-itself")))
                .hasMessageContaining("tokens[1]").hasMessageNotContaining("the-token-itself");
        assertThatThrownBy(() -> AccessTokens.of(List.of("a:admin:" + hash))).hasMessageContaining("role");
        assertThatThrownBy(() -> AccessTokens.of(List.of("a:viewer:abc"))).hasMessageContaining("64 hex");
        assertThatThrownBy(() -> AccessTokens.of(List.of("a b:viewer:" + hash))).hasMessageContaining("name");
    }
}
