package dev.conveyor.fluxsync.domain;

/**
 * Values kept in a Secret or ConfigMap of the release's namespace.
 *
 * @param kind {@code Secret} or {@code ConfigMap}
 * @param name the object's name
 * @param key the data key holding YAML values ({@code values.yaml} unless set)
 * @param optional whether a missing object or key is ignored
 */
public record ValuesRef(String kind, String namespace, String name, String key, boolean optional) {
}
