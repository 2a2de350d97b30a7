package dev.conveyor.events.v1;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Derives the published JSON Schema (draft 2020-12) of an event from its record: types, required fields (every field
 * without {@link Nullable}), enum values as they are written, digest and sha256 patterns, lower bounds. The files under
 * {@code src/main/resources} are checked against it by {@code EventSchemasTest}, so the records and the published
 * schemas cannot drift apart.
 */
final class SchemaGenerator {

    private static final ObjectMapper MAPPER = EventJson.mapper();

    private SchemaGenerator() {
    }

    static ObjectNode schemaOf(EventType type) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        root.put("$id", EventSchemas.SCHEMA_ID_BASE + type.eventName() + ".schema.json");
        root.put("title", type.eventName());
        root.put("description", "CloudEvents data of type " + type.type() + ", published on topic " + type.topic()
                + " with the app id as record key.");
        Map<String, ObjectNode> defs = new TreeMap<>();
        objectSchema(root, type.recordClass(), defs);
        ObjectNode defsNode = root.putObject("$defs");
        defs.forEach(defsNode::set);
        return root;
    }

    private static void objectSchema(ObjectNode target, Class<?> record, Map<String, ObjectNode> defs) {
        target.put("type", "object");
        ObjectNode properties = target.putObject("properties");
        ArrayNode required = target.putArray("required");
        for (RecordComponent component : record.getRecordComponents()) {
            ObjectNode property = valueSchema(component.getName(), component.getGenericType(), defs);
            if (component.isAnnotationPresent(Nullable.class)) {
                ObjectNode nullable = MAPPER.createObjectNode();
                nullable.putArray("anyOf").add(property).addObject().put("type", "null");
                properties.set(component.getName(), nullable);
            } else {
                properties.set(component.getName(), property);
                required.add(component.getName());
            }
        }
        // Readers ignore fields they do not know: additive changes within v1 must not break them.
        target.put("additionalProperties", true);
    }

    private static ObjectNode valueSchema(String name, Type type, Map<String, ObjectNode> defs) {
        ObjectNode schema = MAPPER.createObjectNode();
        if (type instanceof ParameterizedType parameterized) {
            Class<?> raw = (Class<?>) parameterized.getRawType();
            Type[] args = parameterized.getActualTypeArguments();
            if (List.class.isAssignableFrom(raw)) {
                schema.put("type", "array");
                schema.set("items", valueSchema(name, args[0], defs));
                return schema;
            }
            if (Map.class.isAssignableFrom(raw)) {
                schema.put("type", "object");
                schema.set("additionalProperties", valueSchema(name, args[1], defs));
                return schema;
            }
            throw new IllegalArgumentException("unsupported generic type " + type + " for " + name);
        }
        Class<?> cls = (Class<?>) type;
        if (cls == String.class) {
            schema.put("type", "string");
            if (name.equals("sha256")) {
                schema.put("pattern", "^[0-9a-f]{64}$");
            } else if (name.equalsIgnoreCase("digest") || name.endsWith("Digest")) {
                schema.put("pattern", "^sha256:[0-9a-f]{64}$");
            } else {
                schema.put("minLength", 1);
            }
        } else if (cls == int.class || cls == Integer.class || cls == long.class || cls == Long.class) {
            schema.put("type", "integer");
            schema.put("minimum", name.equals("attempt") || name.equals("pullRequest") ? 1 : 0);
        } else if (cls == boolean.class || cls == Boolean.class) {
            schema.put("type", "boolean");
        } else if (cls == Instant.class) {
            schema.put("type", "string");
            schema.put("format", "date-time");
        } else if (cls.isEnum()) {
            ArrayNode values = schema.putArray("enum");
            for (Object constant : cls.getEnumConstants()) {
                values.add(MAPPER.valueToTree(constant));
            }
        } else if (cls.isRecord()) {
            if (!defs.containsKey(cls.getSimpleName())) {
                ObjectNode def = MAPPER.createObjectNode();
                defs.put(cls.getSimpleName(), def);
                objectSchema(def, cls, defs);
            }
            schema.put("$ref", "#/$defs/" + cls.getSimpleName());
        } else {
            throw new IllegalArgumentException("unsupported type " + cls + " for " + name);
        }
        return schema;
    }
}
