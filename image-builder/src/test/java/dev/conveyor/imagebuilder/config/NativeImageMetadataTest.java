package dev.conveyor.imagebuilder.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import dev.conveyor.testkit.nativeimage.NativeImageMetadataContract;

/** This service's native-image metadata against its class path, Jib's Jackson-bound JSON templates included. */
class NativeImageMetadataTest extends NativeImageMetadataContract {

    /** Every Jib class Jackson binds (JSON templates, and classes with Jackson annotations or serializers). */
    @Test
    void jibJsonTemplatesAreRegistered() throws Exception {
        Class<?> template = Class.forName("com.google.cloud.tools.jib.json.JsonTemplate");
        Set<String> bound = metadata.classNamesIn("com.google.cloud.tools.jib").stream().filter(n -> metadata.type(n)
                .map(t -> !t.isInterface() && (template.isAssignableFrom(t)
                        || com.fasterxml.jackson.databind.JsonSerializer.class.isAssignableFrom(t)
                        || com.fasterxml.jackson.databind.JsonDeserializer.class.isAssignableFrom(t)
                        || java.util.Arrays.stream(t.getDeclaredAnnotations()).anyMatch(a -> a.annotationType()
                                .getName().startsWith("com.fasterxml.jackson."))))
                .orElse(false)).collect(Collectors.toSet());
        assertThat(bound).as("Jib's Jackson-bound classes").hasSizeGreaterThan(20).contains(
                "com.google.cloud.tools.jib.image.json.V22ManifestTemplate",
                "com.google.cloud.tools.jib.registry.json.ErrorResponseTemplate");
        assertThat(metadata.reflection()).containsAll(bound);
    }
}
