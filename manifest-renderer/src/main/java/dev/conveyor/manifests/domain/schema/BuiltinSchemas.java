package dev.conveyor.manifests.domain.schema;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The Kubernetes built-in kinds, from the schema bundled in the jar
 * ({@code dev/conveyor/manifests/schemas/kubernetes-<version>.json}, generated from the client-java-api model classes),
 * so validation never needs the network.
 */
public final class BuiltinSchemas {

    /** A built-in kind: its schema and whether it lives in a namespace. */
    public record Kind(Schema.ObjectType schema, boolean namespaced) {
    }

    private final String kubernetesVersion;
    private final Map<String, Kind> kinds;
    private final Map<String, Schema.ObjectType> types;

    private BuiltinSchemas(String kubernetesVersion, Map<String, Kind> kinds, Map<String, Schema.ObjectType> types) {
        this.kubernetesVersion = kubernetesVersion;
        this.kinds = kinds;
        this.types = types;
    }

    private static final List<String> BUNDLED = List.of("1.30", "1.31", "1.32", "1.33", "1.34", "1.35");

    /** Kubernetes minor versions with a bundled schema, oldest first. */
    public static List<String> bundledVersions() {
        return BUNDLED;
    }

    /** The newest bundled Kubernetes minor version: the default. */
    public static String newest() {
        return BUNDLED.get(BUNDLED.size() - 1);
    }

    /**
     * The bundled minor version a version names: {@code 1.32}, {@code v1.32} and {@code 1.32.4} all name {@code 1.32}.
     *
     * @throws IllegalArgumentException naming the available versions when none is bundled for it
     */
    public static String minor(String kubernetesVersion) {
        if (kubernetesVersion.trim().equals("latest")) {
            return newest();
        }
        String minor = kubernetesVersion.trim().replaceFirst("^v", "").replaceFirst("^(\\d+\\.\\d+)\\.\\d+.*$",
                "$1");
        if (!BUNDLED.contains(minor)) {
            throw new IllegalArgumentException("unknown Kubernetes version \"" + kubernetesVersion
                    + "\"; available: " + String.join(", ", BUNDLED));
        }
        return minor;
    }

    private static final Map<String, BuiltinSchemas> LOADED = new java.util.concurrent.ConcurrentHashMap<>();

    /** The bundled schema of a version, loaded once and shared (it is read-only). */
    public static BuiltinSchemas cached(String kubernetesVersion) {
        return LOADED.computeIfAbsent(minor(kubernetesVersion), BuiltinSchemas::load);
    }

    /** Loads the bundled schema of a Kubernetes version such as {@code 1.32} (or {@code v1.32.0}). */
    public static BuiltinSchemas load(String kubernetesVersion) {
        String minor = minor(kubernetesVersion);
        String resource = "/dev/conveyor/manifests/schemas/kubernetes-" + minor + ".json";
        try (InputStream in = BuiltinSchemas.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("the bundled schema " + resource + " is missing: the build generates"
                        + " it (process-test-classes; ./mvnw -pl manifest-renderer -am package -DskipTests)");
            }
            // A streaming read: an ObjectMapper's first use costs a few hundred milliseconds of start-up, which the
            // command line (conveyor validate) would pay on every call.
            try (com.fasterxml.jackson.core.JsonParser parser = new com.fasterxml.jackson.core.JsonFactory()
                    .createParser(in)) {
                parser.nextToken();
                return fromJson(read(parser));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonNode read(com.fasterxml.jackson.core.JsonParser parser) throws IOException {
        var nodes = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance;
        switch (parser.currentToken()) {
            case START_OBJECT -> {
                var object = nodes.objectNode();
                while (parser.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                    String name = parser.currentName();
                    parser.nextToken();
                    object.set(name, read(parser));
                }
                return object;
            }
            case START_ARRAY -> {
                var array = nodes.arrayNode();
                while (parser.nextToken() != com.fasterxml.jackson.core.JsonToken.END_ARRAY) {
                    array.add(read(parser));
                }
                return array;
            }
            case VALUE_STRING -> {
                return nodes.textNode(parser.getText());
            }
            case VALUE_TRUE, VALUE_FALSE -> {
                return nodes.booleanNode(parser.getBooleanValue());
            }
            case VALUE_NUMBER_INT -> {
                return nodes.numberNode(parser.getLongValue());
            }
            case VALUE_NULL -> {
                return nodes.nullNode();
            }
            default -> throw new IOException("unexpected " + parser.currentToken() + " in a bundled schema");
        }
    }

    static BuiltinSchemas fromJson(JsonNode root) {
        Map<String, Schema.ObjectType> types = new HashMap<>();
        root.path("types").fieldNames().forEachRemaining(name -> types.put(name, new Schema.ObjectType(name)));
        root.path("types").fields().forEachRemaining(e -> {
            Schema.ObjectType type = types.get(e.getKey());
            e.getValue().path("properties").fields().forEachRemaining(p -> type.properties().put(p.getKey(), spec(p
                    .getValue().asText(), types)));
            Set<String> required = new LinkedHashSet<>();
            e.getValue().path("required").forEach(r -> required.add(r.asText()));
            type.required(required);
        });
        Map<String, Kind> kinds = new HashMap<>();
        root.path("kinds").fields().forEachRemaining(e -> kinds.put(e.getKey(), new Kind(types.get(e.getValue()
                .path("type").asText()), e.getValue().path("namespaced").asBoolean())));
        return new BuiltinSchemas(root.path("kubernetesVersion").asText(), kinds, types);
    }

    private static Schema spec(String spec, Map<String, Schema.ObjectType> types) {
        if (spec.startsWith("[]")) {
            return new Schema.ArrayOf(spec(spec.substring(2), types));
        }
        if (spec.startsWith("{}")) {
            return new Schema.MapOf(spec(spec.substring(2), types));
        }
        if (spec.startsWith("#")) {
            Schema.ObjectType type = types.get(spec.substring(1));
            if (type == null) {
                throw new IllegalStateException("bundled schema refers to unknown type " + spec);
            }
            return type;
        }
        if (spec.startsWith("enum:")) {
            return new Schema.Enum(Set.of(spec.substring(5).split(",")));
        }
        return switch (spec) {
            case "string" -> Schema.Scalar.STRING;
            case "integer" -> Schema.Scalar.INTEGER;
            case "number" -> Schema.Scalar.NUMBER;
            case "boolean" -> Schema.Scalar.BOOLEAN;
            case "int-or-string" -> Schema.Scalar.INT_OR_STRING;
            case "quantity" -> Schema.Scalar.QUANTITY;
            case "date-time" -> Schema.Scalar.DATE_TIME;
            case "byte" -> Schema.Scalar.BYTE;
            case "any" -> Schema.Any.INSTANCE;
            default -> throw new IllegalStateException("bundled schema has unknown type " + spec);
        };
    }

    /** The Kubernetes version the schema describes. */
    public String kubernetesVersion() {
        return kubernetesVersion;
    }

    /** The built-in kind, e.g. {@code kind("apps/v1", "Deployment")}. */
    public Optional<Kind> kind(String apiVersion, String kind) {
        return Optional.ofNullable(kinds.get(apiVersion + "/" + kind));
    }

    /** A named model type, e.g. {@code V1ObjectMeta}. */
    public Schema.ObjectType type(String name) {
        return types.get(name);
    }

    /** How many built-in kinds there are. */
    public int kindCount() {
        return kinds.size();
    }
}
