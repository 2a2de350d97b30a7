package dev.conveyor.versioner.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import dev.conveyor.testkit.nativeimage.NativeImageMetadata;
import dev.conveyor.testkit.nativeimage.NativeImageMetadataContract;

/** This service's native-image metadata against its class path; JGit and the SSH transport come with stage-support's. */
class NativeImageMetadataTest extends NativeImageMetadataContract {

    @Test
    void bindsNothingWithJacksonAndGetsJGitFromStageSupport() {
        assertThat(metadata.jacksonBound()).isEmpty();
        assertThat(NativeImageMetadata.read(Path.of("../stage-support/target/classes"), getClass().getClassLoader())
                .bundles()).contains("org.eclipse.jgit.internal.JGitText");
    }
}
