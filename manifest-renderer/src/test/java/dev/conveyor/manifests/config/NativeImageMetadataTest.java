package dev.conveyor.manifests.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import dev.conveyor.testkit.nativeimage.NativeImageMetadataContract;

/** This service's native-image metadata against its class path, helm-java, JNA and the bundled schemas included. */
class NativeImageMetadataTest extends NativeImageMetadataContract {

    NativeImageMetadataTest() {
        super(Bundles.HELM_JAVA);
    }

    @Test
    void bundledSchemasAreIncluded() {
        assertThat(metadata.resourceIncludes()).contains("dev/conveyor/manifests/schemas/*.json");
    }
}
