package dev.conveyor.fluxsync.service;

import java.util.List;
import java.util.Map;

import dev.conveyor.fluxsync.domain.ChartSource;
import dev.conveyor.fluxsync.domain.Manifest;
import dev.conveyor.fluxsync.domain.ObjectRef;
import dev.conveyor.fluxsync.domain.ReleaseKind;
import dev.conveyor.fluxsync.domain.ReleaseSpec;

/** Release specs for the phases' unit tests (the one place that builds a {@link ReleaseSpec} by hand). */
final class Releases {

    private Releases() {
    }

    static ReleaseSpec release(String namespace, String name, ChartSource chart) {
        ObjectRef ref = new ObjectRef("helm.fluxcd.io/v1", "HelmRelease", namespace, name);
        return new ReleaseSpec(ReleaseKind.HELM_OPERATOR, new Manifest(ref, Map.of(), Manifest.fileOwner(
                "releases/" + name + ".yaml")), name, namespace, chart, Map.of(), List.of(), List.of(), false, false);
    }

    static ReleaseSpec gitRelease(String namespace, String name) {
        return release(namespace, name, new ChartSource.GitPath("charts/" + name));
    }
}
