package dev.conveyor.events.v1;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Native images see only the classes registered for reflection; Jackson reads and writes the records reflectively, so
 * every record and enum of the contract must be in the events jar's reflect-config.json.
 */
class NativeImageConfigTest {

    @Test
    void everyRecordAndEnumOfTheContractIsRegisteredForReflection() throws Exception {
        Set<String> registered = new HashSet<>();
        try (InputStream in = getClass().getResourceAsStream(
                "/META-INF/native-image/dev.conveyor/conveyor-events/reflect-config.json")) {
            for (JsonNode entry : EventJson.mapper().readTree(in)) {
                registered.add(entry.get("name").asText());
            }
        }
        Set<Class<?>> needed = new HashSet<>();
        for (EventType type : EventType.values()) {
            collect(type.recordClass(), needed);
        }
        assertThat(needed).extracting(Class::getName).allMatch(registered::contains,
                "registered in reflect-config.json");
    }

    private static void collect(Class<?> type, Set<Class<?>> needed) {
        if (!needed.add(type) || !type.isRecord()) {
            return;
        }
        for (var component : type.getRecordComponents()) {
            Class<?> componentType = component.getType();
            if (componentType.isRecord() || componentType.isEnum()) {
                collect(componentType, needed);
            }
        }
    }
}
