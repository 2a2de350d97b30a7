package dev.conveyor.fluxsync.domain;

import java.util.List;
import java.util.Map;

/**
 * A Helm release as declared by one of the {@linkplain ReleaseKind release kinds}, normalised.
 *
 * @param kind which release kind declared it
 * @param object the release object itself (applied like any manifest; its status carries the conditions)
 * @param releaseName the Helm release name
 * @param targetNamespace where the rendered objects go
 * @param chart where the chart comes from
 * @param values inline values
 * @param valuesFrom values from Secrets and ConfigMaps, merged over the inline values in order
 * @param dependsOn releases ({@code namespace/name}) that must be ready before this one is applied
 * @param suspended a suspended release is neither rendered, applied nor pruned
 * @param rollbackOnFailure whether a failed upgrade is rolled back to the last good revision
 */
public record ReleaseSpec(
        ReleaseKind kind,
        Manifest object,
        String releaseName,
        String targetNamespace,
        ChartSource chart,
        Map<String, Object> values,
        List<ValuesRef> valuesFrom,
        List<String> dependsOn,
        boolean suspended,
        boolean rollbackOnFailure) {

    /** {@code namespace/name} of the release object. */
    public String id() {
        return object.ref().namespace() + "/" + object.ref().name();
    }

    /** Owner key of the objects rendered from this release. */
    public String owner() {
        return Manifest.releaseOwner(object.ref().namespace(), object.ref().name());
    }
}
