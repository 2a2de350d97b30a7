package dev.conveyor.fluxsync.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

class SemverRangeTest {

    static final List<String> VERSIONS = List.of("1.1.9", "1.2.0", "1.2.7", "1.3.0", "1.10.1", "2.0.0-rc.1", "2.0.0",
            "2.1.0", "not-a-version");

    static String highest(String constraint) {
        return SemverRange.parse(constraint).highest(VERSIONS).orElse("none");
    }

    @Test
    void rangesResolveToTheHighestMatchingReleaseAsHelmDoes() {
        assertThat(highest(">=1.2.0 <2")).isEqualTo("1.10.1");
        assertThat(highest(">=1.2.0, <2")).isEqualTo("1.10.1");
        assertThat(highest("1.x")).isEqualTo("1.10.1");
        assertThat(highest("1.2.x")).isEqualTo("1.2.7");
        assertThat(highest("~1.2")).isEqualTo("1.2.7");
        assertThat(highest("~1.2.3")).isEqualTo("1.2.7");
        assertThat(highest("^1.2")).isEqualTo("1.10.1");
        assertThat(highest("*")).isEqualTo("2.1.0");
        assertThat(highest("1.2 - 1.3")).isEqualTo("1.3.0");
        assertThat(highest("<1.2 || >=2.0.0 <2.1")).isEqualTo("2.0.0");
        assertThat(highest(">2")).isEqualTo("none");
        assertThat(highest(">=2.0.0-0 <2.0.0")).isEqualTo("2.0.0-rc.1");
        assertThat(highest("=1.3.0")).isEqualTo("1.3.0");
        assertThat(highest("<=1.2")).isEqualTo("1.2.7");
    }

    @Test
    void exactVersionsAreToldApartAndGarbageIsRefusedWithTheConstraintNamed() {
        assertThat(SemverRange.isExact("1.6.1")).isTrue();
        assertThat(SemverRange.isExact("1.x")).isFalse();
        assertThat(SemverRange.isExact(">=1.0.0")).isFalse();
        assertThatThrownBy(() -> SemverRange.parse(">=one")).hasMessageContaining("'>=one'");
    }
}
