package dev.conveyor.notifier.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import dev.conveyor.testkit.nativeimage.NativeImageMetadataContract;

/** This service's native-image metadata against its class path; its Jackson-bound state records are registered. */
class NativeImageMetadataTest extends NativeImageMetadataContract {

    @Test
    void stateRecordsAreFoundAndRegistered() {
        assertThat(metadata.jacksonBound()).contains("dev.conveyor.notifier.service.StateStore$Entry");
        assertThat(metadata.reflection()).containsAll(metadata.jacksonBound());
    }
}
