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
 * @param skipped files and directories of the repository that are deliberately not applied, with the reason (a
 *     non-YAML file, an ignore-file entry, a chart, a kustomization that is not built, a Flux source object), so the
 *     status and the log can say so instead of dropping them in silence
 */
public record DesiredState(List<Manifest> objects, List<ReleaseSpec> releases, List<SyncProblem> problems,
        Set<String> heldOwners, List<Skipped> skipped) {

    public DesiredState(List<Manifest> objects, List<ReleaseSpec> releases, List<SyncProblem> problems,
            Set<String> heldOwners) {
        this(objects, releases, problems, heldOwners, List.of());
    }

    /**
     * A file, directory or object of the repository that is not applied.
     *
     * @param path the file or directory ({@code dir/}), relative to the snapshot; for an object, its file
     * @param reason for people: why it is not applied, and what would make it applied when something can
     */
    public record Skipped(String path, String reason) {
        @Override
        public String toString() {
            return path + ": " + reason;
        }
    }
}
