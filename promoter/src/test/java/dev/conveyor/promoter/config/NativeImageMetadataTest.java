package dev.conveyor.promoter.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;

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
        Set<String> structures = METADATA.classNamesIn("com.marcnuri.helm.jni").stream().filter(n -> METADATA.type(n)
                .map(t -> com.sun.jna.Structure.class.isAssignableFrom(t)).orElse(false)).collect(Collectors
                        .toSet());
        assertThat(structures).as("helm-java's option and result structures").hasSizeGreaterThan(15).contains(
                "com.marcnuri.helm.jni.TemplateOptions", "com.marcnuri.helm.jni.Result");
        assertThat(METADATA.reflection()).containsAll(structures).contains(
                "com.marcnuri.helm.jni.linux.amd64.LinuxAmd64NativeLibrary");
        Set<String> libraries = METADATA.classNamesIn("com.marcnuri.helm.jni").stream().filter(n -> METADATA.type(n)
                .map(t -> t.isInterface() && com.sun.jna.Library.class.isAssignableFrom(t)).orElse(false)).collect(
                        Collectors.toSet());
        assertThat(METADATA.proxies()).containsAll(libraries).contains("com.marcnuri.helm.jni.HelmLib");
        assertThat(METADATA.jni()).contains("com.sun.jna.Native", "com.sun.jna.Structure", "com.sun.jna.Pointer",
                "com.sun.jna.CallbackReference");
        assertThat(METADATA.runTimeInitialized()).contains("com.sun.jna", "com.marcnuri.helm");
        assertThat(METADATA.resourceIncludes()).contains("helm-linux-amd64.so",
                "com/sun/jna/linux-x86-64/libjnidispatch.so");
    }
}
