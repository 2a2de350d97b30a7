package dev.conveyor.fluxsync.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import dev.conveyor.stage.config.NativeImageMetadata;

/**
 * The native-image metadata of this service holds against its real class path: helm-java and JNA.
 */
class NativeImageMetadataTest {

    static final NativeImageMetadata METADATA = NativeImageMetadata.read(Path.of("target/classes"),
            NativeImageMetadataTest.class.getClassLoader());

    /** Every registered class, member, proxy and bundle exists; every glob matches; every Jackson-bound type is registered. */
    @Test
    void everyRegistrationResolves() {
        assertThat(METADATA.problems()).isEmpty();
        assertThat(METADATA.resourceIncludes()).isNotNull();
    }

    /** helm-java through JNA: every Structure it passes, its library proxy, JNA's JNI entry points, the libraries. */
    @Test
    void helmJavaAndJnaAreRegistered() {
        assertThat(METADATA.missingHelmJavaRegistrations()).isEmpty();
    }
}
