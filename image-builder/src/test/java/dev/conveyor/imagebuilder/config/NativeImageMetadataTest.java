package dev.conveyor.imagebuilder.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import dev.conveyor.stage.config.NativeImageMetadata;

/**
 * The native-image metadata of this service holds against its real class path: Jib's JSON templates.
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

    /** Every Jib class Jackson binds (JSON templates, and classes with Jackson annotations or serializers). */
    @Test
    void jibJsonTemplatesAreRegistered() throws Exception {
        Class<?> template = Class.forName("com.google.cloud.tools.jib.json.JsonTemplate");
        Set<String> bound = METADATA.classNamesIn("com.google.cloud.tools.jib").stream().filter(n -> METADATA.type(n)
                .map(t -> !t.isInterface() && (template.isAssignableFrom(t)
                        || com.fasterxml.jackson.databind.JsonSerializer.class.isAssignableFrom(t)
                        || com.fasterxml.jackson.databind.JsonDeserializer.class.isAssignableFrom(t)
                        || java.util.Arrays.stream(t.getDeclaredAnnotations()).anyMatch(a -> a.annotationType()
                                .getName().startsWith("com.fasterxml.jackson."))))
                .orElse(false)).collect(Collectors.toSet());
        assertThat(bound).as("Jib's Jackson-bound classes").hasSizeGreaterThan(20).contains(
                "com.google.cloud.tools.jib.image.json.V22ManifestTemplate",
                "com.google.cloud.tools.jib.registry.json.ErrorResponseTemplate");
        assertThat(METADATA.reflection()).containsAll(bound);
    }
}
