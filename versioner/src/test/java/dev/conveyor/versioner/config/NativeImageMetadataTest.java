package dev.conveyor.versioner.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import dev.conveyor.stage.config.NativeImageMetadata;

/**
 * The native-image metadata of this service holds against its real class path: JGit and the SSH transport through stage-support's metadata; it binds nothing with Jackson.
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

    @Test
    void jgitComesWithStageSupport() {
        assertThat(METADATA.jacksonBound()).isEmpty();
        NativeImageMetadata stageSupport = NativeImageMetadata.read(Path.of("../stage-support/target/classes"),
                NativeImageMetadataTest.class.getClassLoader());
        assertThat(stageSupport.problems()).isEmpty();
        assertThat(stageSupport.bundles()).contains("org.eclipse.jgit.internal.JGitText");
    }
}
