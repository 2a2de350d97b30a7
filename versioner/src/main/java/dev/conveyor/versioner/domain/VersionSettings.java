package dev.conveyor.versioner.domain;

import java.util.List;

/**
 * One app's version settings, from {@code .conveyor.yaml} over the platform defaults.
 *
 * @param strategy tags (default) or file
 * @param tagPrefix prefix of the app's version tags, {@code v} by default, e.g. {@code api-v} in a monorepo
 * @param initial the first version when there is no tag, {@code 0.1.0} by default
 * @param versionFile path of the version file for the FILE strategy: {@code VERSION}, a {@code Chart.yaml} or a
 *     {@code pom.xml}
 * @param paths path prefixes that belong to the app (monorepos); empty means the whole repository
 */
public record VersionSettings(VersionStrategy strategy, String tagPrefix, SemVer initial, String versionFile,
        List<String> paths) {

    public VersionSettings {
        paths = List.copyOf(paths);
    }

    /** Whether a commit touches the app. */
    public boolean touches(CommitInfo commit) {
        if (paths.isEmpty() || commit.merge()) {
            return paths.isEmpty();
        }
        return commit.paths().stream().anyMatch(p -> paths.stream().anyMatch(prefix -> p.equals(prefix)
                || p.startsWith(prefix.endsWith("/") ? prefix : prefix + "/")));
    }
}
