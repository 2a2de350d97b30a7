package dev.conveyor.manifests.domain;

import java.util.Locale;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One Kubernetes object out of the rendered chart.
 *
 * @param source the template it came from (Helm's {@code # Source:} comment)
 * @param apiVersion {@code apps/v1}, or empty when missing
 * @param kind {@code Deployment}, or empty when missing
 * @param namespace {@code metadata.namespace}, or empty
 * @param name {@code metadata.name}, or empty
 * @param body the object as parsed
 * @param document its document in the stream it was parsed from, counted from 1 (items of a List share their List's);
 *     0 when unknown
 * @param line the line that document starts at, counted from 1; 0 when unknown
 */
public record RenderedObject(String source, String apiVersion, String kind, String namespace, String name,
        ObjectNode body, int document, int line) {

    /** Builds the object from its parsed body, reading the identifying fields; no position. */
    public static RenderedObject of(String source, ObjectNode body) {
        return of(source, body, 0, 0);
    }

    /** Builds the object from its parsed body, reading the identifying fields, at a position in its stream. */
    public static RenderedObject of(String source, ObjectNode body, int document, int line) {
        return new RenderedObject(source, text(body.path("apiVersion")), text(body.path("kind")),
                text(body.path("metadata").path("namespace")), text(body.path("metadata").path("name")), body,
                document, line);
    }

    private static String text(com.fasterxml.jackson.databind.JsonNode node) {
        return node.isTextual() ? node.asText() : "";
    }

    /** The API group: {@code apps} for {@code apps/v1}, empty for the core group. */
    public String group() {
        int slash = apiVersion.indexOf('/');
        return slash < 0 ? "" : apiVersion.substring(0, slash);
    }

    /** The version part of {@code apiVersion}: {@code v1} for {@code apps/v1}. */
    public String version() {
        int slash = apiVersion.indexOf('/');
        return slash < 0 ? apiVersion : apiVersion.substring(slash + 1);
    }

    /** A problem about this object. */
    public Problem problem(String path, String message) {
        return new Problem(source, kind, namespace, name, path, message, document, line);
    }

    /**
     * The object's stable file name under {@code manifests/}: {@code <kind>-<namespace>-<name>.yaml}, lower-case, or
     * {@code <kind>-<name>.yaml} when it has no namespace.
     */
    public String fileName() {
        String base = namespace.isEmpty() ? kind + "-" + name : kind + "-" + namespace + "-" + name;
        return base.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.-]", "_") + ".yaml";
    }
}
