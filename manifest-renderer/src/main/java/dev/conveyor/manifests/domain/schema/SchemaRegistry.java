package dev.conveyor.manifests.domain.schema;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.JsonNode;

import dev.conveyor.manifests.domain.Problem;
import dev.conveyor.manifests.domain.RenderedObject;

/**
 * Where the validator finds the schema of a kind: the bundled built-ins first, then CRDs (from the chart's output, its
 * {@code crds/} directory and the repository), then the configured schema locations.
 */
public final class SchemaRegistry {

    /** An external source of schemas, e.g. kubeconform-style templated paths on disk. */
    @FunctionalInterface
    public interface SchemaLookup {
        /** The JSON Schema of the kind, if the source has one. */
        Optional<JsonNode> find(String group, String version, String kind);
    }

    /** A resolved schema and whether the kind lives in a namespace (unknown for external schemas: {@code null}). */
    public record Resolved(Schema.ObjectType schema, Boolean namespaced) {
    }

    private final BuiltinSchemas builtins;
    // Concurrent: the command line validates objects on several threads once the CRDs are registered.
    private final Map<String, Resolved> crds = new ConcurrentHashMap<>();
    private final List<SchemaLookup> lookups;
    private final Map<String, Optional<Resolved>> looked = new ConcurrentHashMap<>();

    public SchemaRegistry(BuiltinSchemas builtins, List<SchemaLookup> lookups) {
        this.builtins = builtins;
        this.lookups = List.copyOf(lookups);
    }

    public BuiltinSchemas builtins() {
        return builtins;
    }

    /**
     * Registers every version of a {@code CustomResourceDefinition} (apiextensions.k8s.io/v1) that has an
     * {@code openAPIV3Schema}; returns problems about CRDs that cannot be used.
     */
    public List<Problem> addCrd(RenderedObject crd) {
        List<Problem> problems = new ArrayList<>();
        JsonNode spec = crd.body().path("spec");
        String group = spec.path("group").asText("");
        String kind = spec.path("names").path("kind").asText("");
        boolean namespaced = !"Cluster".equals(spec.path("scope").asText("Namespaced"));
        if (group.isEmpty() || kind.isEmpty()) {
            return problems; // the CRD's own validation reports the missing fields
        }
        for (JsonNode version : spec.path("versions")) {
            JsonNode schema = version.path("schema").path("openAPIV3Schema");
            String name = version.path("name").asText("");
            if (name.isEmpty() || !schema.isObject()) {
                continue; // no schema: the kind stays unknown and missing-schema applies
            }
            crds.put(group + "/" + name + "/" + kind, new Resolved(JsonSchemaConverter.resource(kind + "." + group
                    + "/" + name, schema, builtins.type("V1ObjectMeta")), namespaced));
        }
        return problems;
    }

    /** The schema of {@code apiVersion}/{@code kind}, if any source knows it. */
    public Optional<Resolved> find(String apiVersion, String kind) {
        Optional<BuiltinSchemas.Kind> builtin = builtins.kind(apiVersion, kind);
        if (builtin.isPresent()) {
            return Optional.of(new Resolved(builtin.get().schema(), builtin.get().namespaced()));
        }
        Resolved crd = crds.get(apiVersion + "/" + kind);
        if (crd != null) {
            return Optional.of(crd);
        }
        return looked.computeIfAbsent(apiVersion + "/" + kind, key -> {
            int slash = apiVersion.indexOf('/');
            String group = slash < 0 ? "" : apiVersion.substring(0, slash);
            String version = slash < 0 ? apiVersion : apiVersion.substring(slash + 1);
            for (SchemaLookup lookup : lookups) {
                Optional<JsonNode> found = lookup.find(group, version, kind);
                if (found.isPresent()) {
                    return Optional.of(new Resolved(JsonSchemaConverter.resource(kind + "." + group + "/" + version,
                            found.get(), builtins.type("V1ObjectMeta")), null));
                }
            }
            return Optional.empty();
        });
    }
}
