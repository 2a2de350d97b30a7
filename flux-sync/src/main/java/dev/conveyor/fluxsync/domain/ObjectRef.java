package dev.conveyor.fluxsync.domain;

import java.util.Comparator;

/**
 * Names one Kubernetes object. Two refs that differ only in the version of their {@code apiVersion} name the same
 * object ({@link #id()}), so moving a manifest from {@code v1beta1} to {@code v1} in git never prunes it.
 *
 * @param apiVersion {@code group/version}, or just {@code version} for the core group
 * @param kind the kind
 * @param namespace the namespace, empty for cluster-scoped objects
 * @param name the name
 */
public record ObjectRef(String apiVersion, String kind, String namespace,
        String name) implements Comparable<ObjectRef> {

    private static final Comparator<ObjectRef> ORDER = Comparator.comparing(ObjectRef::group)
            .thenComparing(ObjectRef::kind).thenComparing(ObjectRef::namespace).thenComparing(ObjectRef::name);

    public ObjectRef {
        namespace = namespace == null ? "" : namespace;
    }

    /** The API group, empty for the core group. */
    public String group() {
        int slash = apiVersion.indexOf('/');
        return slash < 0 ? "" : apiVersion.substring(0, slash);
    }

    /** Identity without the API version: {@code group/kind/namespace/name}. */
    public String id() {
        return group() + "/" + kind + "/" + namespace + "/" + name;
    }

    public boolean clusterScoped() {
        return namespace.isEmpty();
    }

    /** One line for the inventory: {@code apiVersion kind namespace name}, {@code -} for no namespace. */
    public String toLine() {
        return apiVersion + " " + kind + " " + (namespace.isEmpty() ? "-" : namespace) + " " + name;
    }

    /** Reads {@link #toLine()}; null if the line is not one. */
    public static ObjectRef fromLine(String line) {
        String[] parts = line.trim().split(" ");
        if (parts.length != 4) {
            return null;
        }
        return new ObjectRef(parts[0], parts[1], "-".equals(parts[2]) ? "" : parts[2], parts[3]);
    }

    @Override
    public int compareTo(ObjectRef other) {
        return ORDER.compare(this, other);
    }

    @Override
    public String toString() {
        return kind + " " + (namespace.isEmpty() ? "" : namespace + "/") + name;
    }
}
