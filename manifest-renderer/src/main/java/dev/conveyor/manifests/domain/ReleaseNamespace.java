package dev.conveyor.manifests.domain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.conveyor.manifests.domain.schema.SchemaRegistry;

/** Puts the release namespace on namespaced objects that have none, as {@code helm install} would place them. */
public final class ReleaseNamespace {

    private ReleaseNamespace() {
    }

    /** The object in {@code namespace} when it is namespaced (or of unknown scope) and names none; else itself. */
    public static RenderedObject place(RenderedObject object, SchemaRegistry registry, String namespace) {
        if (!object.namespace().isEmpty() || object.kind().isEmpty() || registry.find(object.apiVersion(), object
                .kind()).map(r -> r.namespaced() == Boolean.FALSE).orElse(false)) {
            return object;
        }
        ObjectNode body = object.body().deepCopy();
        JsonNode metadata = body.path("metadata");
        if (!metadata.isObject()) {
            return object;
        }
        ((ObjectNode) metadata).put("namespace", namespace);
        return RenderedObject.of(object.source(), body, object.document(), object.line());
    }
}
