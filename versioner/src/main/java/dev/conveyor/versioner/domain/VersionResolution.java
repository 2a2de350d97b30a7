package dev.conveyor.versioner.domain;

import java.util.List;

import dev.conveyor.events.v1.BumpReason;

/**
 * The outcome of the version rules.
 *
 * @param version the version
 * @param tagName the tag to carry it in CD, {@code null} in CI
 * @param existingTag whether the tag is already on the commit (nothing to create)
 * @param previous the version bumped from, {@code null} if none
 * @param bump why
 * @param changes subjects of the relevant commits since the previous version, newest first
 */
public record VersionResolution(SemVer version, String tagName, boolean existingTag, SemVer previous,
        BumpReason bump, List<String> changes) {

    public VersionResolution {
        changes = List.copyOf(changes);
    }
}
