package dev.conveyor.testkit.nativeimage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What every module's {@code NativeImageMetadataTest} checks, written once: a module's test extends this in a couple
 * of lines and adds only what is its own. The module's metadata ({@code target/classes}) is read once per test class,
 * against the test's class path, which is the module's run-time class path.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class NativeImageMetadataContract {

    /** What a module ships beyond its own classes that the contract must check too. */
    public enum Bundles {
        /** Nothing beyond the common checks. */
        NOTHING_MORE,
        /** helm-java through JNA: its structures, library proxy, JNI entry points and native libraries. */
        HELM_JAVA
    }

    /** The module's metadata, read from {@code target/classes}. */
    protected final NativeImageMetadata metadata;
    private final Bundles bundles;

    protected NativeImageMetadataContract() {
        this(Bundles.NOTHING_MORE);
    }

    protected NativeImageMetadataContract(Bundles bundles) {
        this.bundles = bundles;
        this.metadata = NativeImageMetadata.read(Path.of("target/classes"), getClass().getClassLoader());
    }

    /**
     * Every registered class, member, proxy and bundle exists; every glob matches; every Jackson-bound type is
     * registered; and for a module that bundles helm-java ({@link Bundles#HELM_JAVA}), every Structure it passes
     * through JNA, its library proxy, JNA's JNI entry points and the native libraries are registered too.
     */
    @Test
    void everyRegistrationResolves() {
        assertThat(metadata.problems()).as("metadata problems").isEmpty();
        if (bundles == Bundles.HELM_JAVA) {
            assertThat(metadata.missingHelmJavaRegistrations()).as("missing helm-java/JNA registrations").isEmpty();
        }
    }
}
