package dev.conveyor.manifests.domain.schema;

import java.util.LinkedHashSet;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Compiles the JSON Schema subset Kubernetes uses (a CRD's {@code openAPIV3Schema}, or a kubeconform-style schema file)
 * into a {@link Schema}. Strictness follows the API server's structural-schema pruning: an object with properties and
 * without {@code x-kubernetes-preserve-unknown-fields} or {@code additionalProperties: true} accepts no other field
 * (the server would silently drop it), so such fields are reported.
 */
public final class JsonSchemaConverter {

    private JsonSchemaConverter() {
    }

    /**
     * The schema of a whole custom resource: {@code metadata} is always the built-in {@code ObjectMeta}, and
     * {@code apiVersion} and {@code kind} are always accepted.
     */
    public static Schema.ObjectType resource(String name, JsonNode schema, Schema.ObjectType objectMeta) {
        Schema converted = convert(name, schema);
        Schema.ObjectType root = converted instanceof Schema.ObjectType object
                ? object
                : new Schema.ObjectType(name).open(true);
        root.properties().put("apiVersion", Schema.Scalar.STRING);
        root.properties().put("kind", Schema.Scalar.STRING);
        root.properties().put("metadata", objectMeta);
        return root;
    }

    /** Compiles one schema node. */
    public static Schema convert(String name, JsonNode schema) {
        if (schema == null || !schema.isObject()) {
            return Schema.Any.INSTANCE;
        }
        if (schema.path("x-kubernetes-int-or-string").asBoolean(false)
                || "int-or-string".equals(schema.path("format").asText())) {
            return Schema.Scalar.INT_OR_STRING;
        }
        String type = type(schema);
        boolean preserve = schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
        JsonNode properties = schema.path("properties");
        JsonNode additional = schema.path("additionalProperties");
        if (type == null) {
            if (properties.isObject()) {
                type = "object";
            } else if (schema.path("items").isObject()) {
                type = "array";
            } else {
                return Schema.Any.INSTANCE;
            }
        }
        switch (type) {
            case "object" : {
                if (!properties.isObject() && additional.isObject()) {
                    return new Schema.MapOf(convert(name + ".*", additional));
                }
                if (!properties.isObject() && preserve) {
                    return Schema.Any.INSTANCE;
                }
                Schema.ObjectType object = new Schema.ObjectType(name);
                properties.fields().forEachRemaining(p -> object.properties().put(p.getKey(), convert(name + "."
                        + p.getKey(), p.getValue())));
                Set<String> required = new LinkedHashSet<>();
                schema.path("required").forEach(r -> required.add(r.asText()));
                object.required(required);
                object.open(preserve || additional.asBoolean(false) || additional.isObject());
                return object;
            }
            case "array" :
                return new Schema.ArrayOf(convert(name + "[]", schema.path("items")));
            case "string" : {
                JsonNode values = schema.path("enum");
                if (values.isArray() && values.size() > 0) {
                    Set<String> set = new LinkedHashSet<>();
                    values.forEach(v -> set.add(v.asText()));
                    return new Schema.Enum(set);
                }
                return "date-time".equals(schema.path("format").asText())
                        ? Schema.Scalar.DATE_TIME
                        : Schema.Scalar.STRING;
            }
            case "integer" :
                return Schema.Scalar.INTEGER;
            case "number" :
                return Schema.Scalar.NUMBER;
            case "boolean" :
                return Schema.Scalar.BOOLEAN;
            default :
                return Schema.Any.INSTANCE;
        }
    }

    private static String type(JsonNode schema) {
        JsonNode type = schema.path("type");
        if (type.isTextual()) {
            return type.asText();
        }
        if (type.isArray()) {
            // kubeconform's generated schemas say ["string", "null"]: the non-null type counts.
            for (JsonNode t : type) {
                if (!"null".equals(t.asText())) {
                    return t.asText();
                }
            }
        }
        return null;
    }
}
