package dev.conveyor.manifests.domain.schema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Each bundled Kubernetes version loads and is the API of that version, not another's. */
class BuiltinSchemasTest {

    @ParameterizedTest
    @ValueSource(strings = {"1.30", "1.31", "1.32", "v1.31.4"})
    void everyBundledVersionLoadsTheCoreKinds(String version) {
        BuiltinSchemas schemas = BuiltinSchemas.load(version);
        assertThat(schemas.kindCount()).isGreaterThan(70);
        assertThat(schemas.kind("apps/v1", "Deployment")).isPresent();
        assertThat(schemas.kind("v1", "Namespace")).get().satisfies(k -> assertThat(k.namespaced()).isFalse());
    }

    @Test
    void kindsFollowTheirVersion() {
        assertThat(BuiltinSchemas.load("1.32").kind("networking.k8s.io/v1", "IPAddress")).isPresent();
        assertThat(BuiltinSchemas.load("1.30").kind("networking.k8s.io/v1", "IPAddress")).isEmpty();
    }

    @Test
    void anUnbundledVersionIsRefusedNamingTheBundledOnes() {
        assertThatThrownBy(() -> BuiltinSchemas.load("1.20"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown Kubernetes version \"1.20\"; available: " + String.join(", ", BuiltinSchemas
                        .bundledVersions()));
        assertThat(BuiltinSchemas.bundledVersions()).containsExactly("1.30", "1.31", "1.32", "1.33", "1.34", "1.35");
        assertThat(BuiltinSchemas.newest()).isEqualTo("1.35");
        assertThat(BuiltinSchemas.minor("latest")).isEqualTo("1.35");
        for (String version : BuiltinSchemas.bundledVersions()) {
            assertThat(BuiltinSchemas.load(version).kubernetesVersion()).isEqualTo(version);
        }
        assertThat(BuiltinSchemas.load("v1.31.4").kubernetesVersion()).startsWith("1.31");
    }
}
