package dev.conveyor.fluxsync.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class ReplicaSettingsTest {

    @Test
    void theDefaultsAreValidAndBoundTheTakeoverWithin15Seconds() {
        ReplicaSettings s = new ReplicaSettings("flux-sync-0", Duration.ofSeconds(8), Duration.ofSeconds(2), Duration
                .ofSeconds(1));
        assertThat(s.takeoverBound()).isEqualTo(Duration.ofSeconds(10)).isLessThan(Duration.ofSeconds(15));
    }

    @Test
    void badValuesFailNamingTheProperty() {
        assertThatThrownBy(() -> new ReplicaSettings("a", Duration.ofMillis(1500), Duration.ofSeconds(1), Duration
                .ofSeconds(1))).hasMessageStartingWith("conveyor.flux-sync.replicas.lease-duration must be a whole "
                        + "number of seconds");
        assertThatThrownBy(() -> new ReplicaSettings("a", Duration.ZERO, Duration.ofSeconds(1), Duration.ofSeconds(1)))
                .hasMessageStartingWith("conveyor.flux-sync.replicas.lease-duration");
        assertThatThrownBy(() -> new ReplicaSettings("a", Duration.ofSeconds(5), Duration.ofSeconds(5), Duration
                .ofSeconds(1))).hasMessageStartingWith("conveyor.flux-sync.replicas.renew-period must be positive and "
                        + "shorter than conveyor.flux-sync.replicas.lease-duration");
        assertThatThrownBy(() -> new ReplicaSettings("a", Duration.ofSeconds(5), Duration.ZERO, Duration.ofSeconds(1)))
                .hasMessageStartingWith("conveyor.flux-sync.replicas.renew-period");
        assertThatThrownBy(() -> new ReplicaSettings("a", Duration.ofSeconds(5), Duration.ofSeconds(1), Duration
                .ofMillis(-1))).hasMessageStartingWith("conveyor.flux-sync.replicas.handoff-poll must be positive");
        assertThatThrownBy(() -> new ReplicaSettings(" ", Duration.ofSeconds(5), Duration.ofSeconds(1), Duration
                .ofSeconds(1))).hasMessageStartingWith("conveyor.flux-sync.replicas.identity must not be blank");
    }
}
