package dev.conveyor.manifests.domain.schema;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** The compiled form of a schema the validator walks: built-in kinds and CRDs alike. */
public sealed interface Schema {

    /** A JSON scalar of a given type. */
    enum Scalar implements Schema {
        STRING, INTEGER, NUMBER, BOOLEAN, INT_OR_STRING, QUANTITY, DATE_TIME, BYTE
    }

    /** Anything: {@code x-kubernetes-preserve-unknown-fields} values, {@code RawExtension}, untyped fields. */
    record Any() implements Schema {
        public static final Any INSTANCE = new Any();
    }

    /** A string from a fixed set. */
    record Enum(Set<String> values) implements Schema {
    }

    /** A list of {@code items}. */
    record ArrayOf(Schema items) implements Schema {
    }

    /** A map from strings to {@code values}. */
    record MapOf(Schema values) implements Schema {
    }

    /**
     * An object with named properties. Built in two steps (create, then fill) so recursive types can refer to each
     * other; not changed after the registry is built.
     */
    final class ObjectType implements Schema {
        private final String name;
        private final Map<String, Schema> properties = new LinkedHashMap<>();
        private Set<String> required = Set.of();
        private boolean open;

        public ObjectType(String name) {
            this.name = name;
        }

        public String name() {
            return name;
        }

        public Map<String, Schema> properties() {
            return properties;
        }

        public Set<String> required() {
            return required;
        }

        /** Whether fields the schema does not name are accepted ({@code x-kubernetes-preserve-unknown-fields}). */
        public boolean open() {
            return open;
        }

        ObjectType required(Set<String> names) {
            this.required = Set.copyOf(names);
            return this;
        }

        ObjectType open(boolean value) {
            this.open = value;
            return this;
        }

        @Override
        public String toString() {
            return "ObjectType[" + name + "]";
        }
    }
}
