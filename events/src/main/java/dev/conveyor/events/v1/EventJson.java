package dev.conveyor.events.v1;

import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

/**
 * The JSON form of events: what travels as CloudEvents {@code data} and what the published schemas describe.
 *
 * <p>
 * Reading is strict where it matters and lenient where the contract allows: unknown fields are ignored (additive
 * changes within v1), while every missing required field, wrong type, bad enum value or duplicate key is an
 * {@link EventFormatException} that names the event and the field paths. Instants are ISO-8601 strings; absent optional
 * fields are omitted.
 */
public final class EventJson {

    /** Largest event document accepted: rendered diffs make big events, anything beyond this is not ours. */
    public static final int MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .serializationInclusion(JsonInclude.Include.NON_NULL)
            .build();

    static {
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxDocumentLength(MAX_DOCUMENT_BYTES)
                .maxNestingDepth(64)
                .build());
    }

    private EventJson() {
    }

    /** The event as JSON bytes (UTF-8). */
    public static byte[] write(ConveyorEvent event) {
        try {
            return MAPPER.writeValueAsBytes(event);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + event.eventType().eventName() + " as JSON", e);
        }
    }

    /** The event as a JSON string. */
    public static String writeString(ConveyorEvent event) {
        return new String(write(event), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Reads an event of the given type, checking the contract; see the class documentation for what is rejected. */
    public static <E extends ConveyorEvent> E read(byte[] json, Class<E> type) {
        String name = type.getSimpleName();
        if (json == null || json.length == 0) {
            throw new EventFormatException(null, name + ": empty document");
        }
        if (json.length > MAX_DOCUMENT_BYTES) {
            throw new EventFormatException(null, name + ": document of " + json.length + " bytes exceeds the limit of "
                    + MAX_DOCUMENT_BYTES);
        }
        JsonNode tree;
        try {
            tree = MAPPER.readTree(json);
        } catch (IOException e) {
            throw new EventFormatException(null, name + ": not valid JSON: "
                    + firstLine(e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage()),
                    e);
        }
        if (tree == null || !tree.isObject()) {
            throw new EventFormatException(null, name + ": the document must be a JSON object");
        }
        List<String> missing = new ArrayList<>();
        collectMissing(tree, type, "", missing);
        if (!missing.isEmpty()) {
            throw new EventFormatException(missing.get(0),
                    name + ": missing required field" + (missing.size() > 1 ? "s " : " ") + String.join(", ", missing));
        }
        try {
            return MAPPER.treeToValue(tree, type);
        } catch (ValueInstantiationException e) {
            String path = path(e);
            if (e.getCause() instanceof EventFormatException cause) {
                String field = path.isEmpty() ? cause.field() : path + "." + cause.field();
                throw new EventFormatException(field, name + ": invalid field '" + field + "': "
                        + cause.getMessage().replaceFirst("^[^:]*: ", ""), e);
            }
            throw new EventFormatException(path, name + ": invalid value at '" + path + "'", e);
        } catch (JsonMappingException e) {
            String path = path(e);
            throw new EventFormatException(path, name + ": invalid value at '" + path + "': "
                    + firstLine(e.getOriginalMessage()), e);
        } catch (IOException e) {
            throw new EventFormatException(null, name + ": unreadable: " + firstLine(e.getMessage()), e);
        }
    }

    /** Reads an event of the given catalog type. */
    public static ConveyorEvent read(byte[] json, EventType type) {
        return read(json, type.recordClass());
    }

    /** The shared mapper, configured as described above; do not reconfigure it. */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /** Walks the record's components and collects the paths of required ones the document lacks. */
    private static void collectMissing(JsonNode node, Class<?> recordType, String prefix, List<String> missing) {
        for (RecordComponent component : recordType.getRecordComponents()) {
            String path = prefix + component.getName();
            JsonNode value = node.get(component.getName());
            boolean absent = value == null || value.isNull();
            if (absent) {
                if (!component.isAnnotationPresent(Nullable.class)) {
                    missing.add(path);
                }
                continue;
            }
            Class<?> type = component.getType();
            if (type.isRecord() && value.isObject()) {
                collectMissing(value, type, path + ".", missing);
            } else if (List.class.isAssignableFrom(type) && value.isArray()) {
                Class<?> element = elementType(component.getGenericType());
                if (element != null && element.isRecord()) {
                    for (int i = 0; i < value.size(); i++) {
                        collectMissing(value.get(i), element, path + "[" + i + "].", missing);
                    }
                }
            }
        }
    }

    private static Class<?> elementType(Type generic) {
        if (generic instanceof ParameterizedType parameterized
                && parameterized.getActualTypeArguments()[0] instanceof Class<?> element) {
            return element;
        }
        return null;
    }

    private static String path(JsonMappingException e) {
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                if (!path.isEmpty()) {
                    path.append('.');
                }
                path.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                path.append('[').append(ref.getIndex()).append(']');
            }
        }
        return path.toString();
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
