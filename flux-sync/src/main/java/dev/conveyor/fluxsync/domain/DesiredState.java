package dev.conveyor.fluxsync.domain;

import java.util.List;
import java.util.Set;

/**
 * What one revision of a GitOps repository asks for, before the releases are rendered.
 *
 * @param objects plain objects (namespaces, CRDs, manifests, and the release objects themselves), in apply order
 * @param releases the releases, in dependency order
 * @param problems files, objects and releases that cannot be synced
 * @param heldOwners owners whose previous objects must be kept (their file failed to parse, their release is
 *     suspended or broken): never pruned this round
 */
public record DesiredState(List<Manifest> objects, List<ReleaseSpec> releases, List<SyncProblem> problems,
        Set<String> heldOwners) {
}
