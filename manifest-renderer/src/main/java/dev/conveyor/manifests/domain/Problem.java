package dev.conveyor.manifests.domain;

/**
 * One finding about one rendered object: where it came from, which object, where in it and what is wrong.
 *
 * @param source the chart template the object came from ({@code mychart/templates/deployment.yaml}), or
 *     {@code "<unknown>"}
 * @param kind the object's kind, or empty when the document has none
 * @param namespace the object's namespace, or empty
 * @param name the object's name, or empty
 * @param path the JSON path inside the object, e.g. {@code spec.template.spec.containers[0].image}; empty for the whole
 *     object
 * @param message what is wrong
 * @param document the object's document in its stream (file or Helm output), counted from 1; 0 when unknown
 * @param line the line its document starts at in that stream, counted from 1; 0 when unknown
 */
public record Problem(String source, String kind, String namespace, String name, String path, String message,
        int document, int line) {

    /** A problem without a position. */
    public Problem(String source, String kind, String namespace, String name, String path, String message) {
        this(source, kind, namespace, name, path, message, 0, 0);
    }

    /**
     * {@link #render()} with the position: {@code templates/x.yaml (document 3, line 41): Deployment default/web: ...},
     * so that identical anonymous documents can be told apart.
     */
    public String renderWithPosition() {
        if (document == 0) {
            return render();
        }
        String line = render();
        String position = " (document " + document + (this.line > 0 ? ", line " + this.line : "") + ")";
        return source + position + line.substring(source.length());
    }

    /** One line for people: {@code templates/x.yaml: Deployment default/web: spec.replicas: expected integer}. */
    public String render() {
        StringBuilder line = new StringBuilder(source).append(": ");
        if (!kind.isEmpty() || !name.isEmpty()) {
            line.append(kind.isEmpty() ? "?" : kind).append(' ');
            if (!namespace.isEmpty()) {
                line.append(namespace).append('/');
            }
            line.append(name.isEmpty() ? "?" : name).append(": ");
        }
        if (!path.isEmpty()) {
            line.append(path).append(": ");
        }
        return line.append(message).toString();
    }

    @Override
    public String toString() {
        return render();
    }
}
