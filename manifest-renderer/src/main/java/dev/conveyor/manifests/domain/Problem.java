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
 */
public record Problem(String source, String kind, String namespace, String name, String path, String message) {

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
