package dev.conveyor.versioner.domain;

import java.util.Optional;

/**
 * A git tag that names a version of one app: the app's prefix followed by a semantic version ({@code v1.4.0},
 * {@code api-v2.0.0-rc.1}).
 *
 * @param name the tag's name without {@code refs/tags/}
 * @param version the version it names
 * @param commitId the commit it points at (peeled)
 */
public record VersionTag(String name, SemVer version, String commitId) {

    /** The tag as a version tag of the app with this prefix; empty when it has another prefix or is not semver. */
    public static Optional<VersionTag> parse(String name, String prefix, String commitId) {
        if (!name.startsWith(prefix)) {
            return Optional.empty();
        }
        return SemVer.parse(name.substring(prefix.length())).map(v -> new VersionTag(name, v, commitId));
    }
}
