package dev.conveyor.stage.config;

import java.io.IOException;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;

/** Binds a record with Jackson, for {@link NativeImageMetadataTest}: the check must find {@link Payload}. */
final class JacksonFixture {

    record Item(String name) {
    }

    record Payload(String id, List<Item> items) {
    }

    static Payload read(String json) throws IOException {
        return new ObjectMapper().readValue(json, Payload.class);
    }

    private JacksonFixture() {
    }
}
