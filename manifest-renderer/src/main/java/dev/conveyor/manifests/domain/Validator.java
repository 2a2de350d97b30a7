package dev.conveyor.manifests.domain;

import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import dev.conveyor.manifests.domain.schema.Schema;
import dev.conveyor.manifests.domain.schema.SchemaRegistry;

/**
 * Validates rendered objects against their schemas, kubeconform-style: wrong types, invalid enum values, missing
 * required fields and (strict) unknown fields, each with its JSON path; then the API server's own checks
 * ({@link ApiChecks}). Walks Jackson trees directly, without a generic JSON Schema engine, for throughput.
 */
public final class Validator {

    private static final Pattern QUANTITY = Pattern.compile(
            "^[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$");
    private static final Pattern DATE_TIME = Pattern.compile(
            "^\\d{4}-\\d{2}-\\d{2}[Tt ]\\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?(?:[Zz]|[+-]\\d{2}:\\d{2})$");

    private final SchemaRegistry schemas;
    private final ValidationSettings settings;

    public Validator(SchemaRegistry schemas, ValidationSettings settings) {
        this.schemas = schemas;
        this.settings = settings;
    }

    /**
     * Validates a whole rendered set: CRDs among the objects are registered first, so custom resources of the same
     * chart find their schema. Problems found while parsing are passed in and come first.
     */
    public ValidationReport validate(List<RenderedObject> objects, List<Problem> parseProblems) {
        List<Problem> errors = new ArrayList<>(parseProblems);
        List<Problem> warnings = new ArrayList<>();
        for (RenderedObject object : objects) {
            if ("apiextensions.k8s.io/v1".equals(object.apiVersion()) && "CustomResourceDefinition".equals(object
                    .kind())) {
                errors.addAll(schemas.addCrd(object));
            }
        }
        java.util.Set<String> identities = new java.util.HashSet<>();
        for (RenderedObject object : objects) {
            String identity = object.apiVersion().replaceFirst("/.*$", "") + "/" + object.kind() + "/" + object
                    .namespace() + "/" + object.name();
            if (!object.kind().isEmpty() && !object.name().isEmpty() && !identities.add(identity)) {
                errors.add(object.problem("", "duplicate object: another " + object.kind() + " has the same name"));
            }
            validate(object, errors, warnings);
        }
        return new ValidationReport(errors, warnings);
    }

    /** Validates one object, adding its errors and warnings. */
    public void validate(RenderedObject object, List<Problem> errors, List<Problem> warnings) {
        if (object.apiVersion().isEmpty()) {
            errors.add(object.problem("apiVersion", "missing required field \"apiVersion\""));
        }
        if (object.kind().isEmpty()) {
            errors.add(object.problem("kind", "missing required field \"kind\""));
        }
        if (object.apiVersion().isEmpty() || object.kind().isEmpty()) {
            return;
        }
        var resolved = schemas.find(object.apiVersion(), object.kind());
        if (resolved.isEmpty()) {
            Problem missing = object.problem("", "no schema for " + object.apiVersion() + " " + object.kind()
                    + " (not a built-in kind of Kubernetes " + schemas.builtins().kubernetesVersion()
                    + ", no CRD found, not in the schema locations)");
            (settings.missingSchema() == ValidationSettings.MissingSchema.ERROR ? errors : warnings).add(missing);
            return;
        }
        walk(object, resolved.get().schema(), object.body(), "", errors);
        if (resolved.get().namespaced() == Boolean.FALSE && !object.namespace().isEmpty()) {
            errors.add(object.problem("metadata.namespace", object.kind()
                    + " is cluster-scoped and must not have a namespace"));
        }
        if (settings.apiChecks()) {
            ApiChecks.check(object, errors);
        }
    }

    private void walk(RenderedObject object, Schema schema, JsonNode value, String path, List<Problem> errors) {
        if (value.isNull()) {
            return; // null is "not set" to the API server
        }
        if (schema instanceof Schema.ObjectType type) {
            if (!value.isObject()) {
                errors.add(object.problem(path, "expected object, got " + typeName(value)));
                return;
            }
            for (String name : type.required()) {
                JsonNode field = value.get(name);
                if (field == null || field.isNull()) {
                    errors.add(object.problem(child(path, name), "missing required field \"" + name + "\""));
                }
            }
            Map<String, Schema> properties = type.properties();
            for (Iterator<Map.Entry<String, JsonNode>> fields = value.fields(); fields.hasNext();) {
                Map.Entry<String, JsonNode> field = fields.next();
                Schema property = properties.get(field.getKey());
                if (property == null) {
                    if (settings.strict() && !type.open()) {
                        errors.add(object.problem(child(path, field.getKey()), "unknown field \"" + field.getKey()
                                + "\""));
                    }
                    continue;
                }
                walk(object, property, field.getValue(), child(path, field.getKey()), errors);
            }
        } else if (schema instanceof Schema.ArrayOf array) {
            if (!value.isArray()) {
                errors.add(object.problem(path, "expected array, got " + typeName(value)));
                return;
            }
            for (int i = 0; i < value.size(); i++) {
                walk(object, array.items(), value.get(i), path + "[" + i + "]", errors);
            }
        } else if (schema instanceof Schema.MapOf map) {
            if (!value.isObject()) {
                errors.add(object.problem(path, "expected object, got " + typeName(value)));
                return;
            }
            for (Iterator<Map.Entry<String, JsonNode>> fields = value.fields(); fields.hasNext();) {
                Map.Entry<String, JsonNode> field = fields.next();
                walk(object, map.values(), field.getValue(), child(path, field.getKey()), errors);
            }
        } else if (schema instanceof Schema.Enum values) {
            if (!value.isTextual()) {
                errors.add(object.problem(path, "expected string, got " + typeName(value)));
            } else if (!values.values().contains(value.asText())) {
                errors.add(object.problem(path, "invalid value \"" + value.asText() + "\", expected one of "
                        + values.values().stream().sorted().toList()));
            }
        } else if (schema instanceof Schema.Scalar scalar) {
            scalar(object, scalar, value, path, errors);
        }
    }

    private static void scalar(RenderedObject object, Schema.Scalar scalar, JsonNode value, String path,
            List<Problem> errors) {
        String problem = switch (scalar) {
            case STRING -> value.isTextual() ? null : "expected string, got " + typeName(value);
            case INTEGER -> value.isIntegralNumber() ? null : "expected integer, got " + typeName(value);
            case NUMBER -> value.isNumber() ? null : "expected number, got " + typeName(value);
            case BOOLEAN -> value.isBoolean() ? null : "expected boolean, got " + typeName(value);
            case INT_OR_STRING -> value.isIntegralNumber() || value.isTextual()
                    ? null
                    : "expected integer or string, got " + typeName(value);
            case QUANTITY -> value.isNumber() || (value.isTextual() && QUANTITY.matcher(value.asText()).matches())
                    ? null
                    : "invalid quantity " + value + ", expected e.g. 500m, 128Mi or 2";
            case DATE_TIME -> value.isTextual() && DATE_TIME.matcher(value.asText()).matches()
                    ? null
                    : "expected an RFC 3339 date-time, got " + value;
            case BYTE -> value.isTextual() && isBase64(value.asText())
                    ? null
                    : "expected base64-encoded data, got " + (value.isTextual()
                            ? "text that is not base64"
                            : typeName(value));
        };
        if (problem != null) {
            errors.add(object.problem(path, problem));
        }
    }

    private static boolean isBase64(String text) {
        try {
            Base64.getMimeDecoder().decode(text);
            String compact = text.replaceAll("\\s", "");
            return compact.length() % 4 == 0 && compact.matches("[A-Za-z0-9+/]*={0,2}");
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** The JSON type of a value, as messages name it. */
    public static String typeName(JsonNode value) {
        if (value.isObject()) {
            return "object";
        }
        if (value.isArray()) {
            return "array";
        }
        if (value.isTextual()) {
            return "string";
        }
        if (value.isIntegralNumber()) {
            return "integer";
        }
        if (value.isNumber()) {
            return "number";
        }
        if (value.isBoolean()) {
            return "boolean";
        }
        return value.isNull() ? "null" : value.getNodeType().name().toLowerCase();
    }

    /** {@code parent.name}, or {@code name} at the root. */
    public static String child(String parent, String name) {
        return parent.isEmpty() ? name : parent + "." + name;
    }
}
