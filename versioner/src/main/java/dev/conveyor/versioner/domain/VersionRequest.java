package dev.conveyor.versioner.domain;

import java.util.List;
import java.util.Optional;
import java.util.Set;

import dev.conveyor.events.v1.Flow;

/**
 * Everything the version rules need, gathered from git by the service.
 *
 * @param flow CI (pre-release, no tag) or CD (release, tagged)
 * @param pullRequest PR number in CI
 * @param commitId the commit to version
 * @param settings the app's version settings
 * @param fileVersion the version file's version, for the FILE strategy
 * @param tagsOnCommit the app's version tags already on the commit
 * @param base the highest release tag of the app reachable from the commit, if any
 * @param commitsSinceBase commits reachable from the commit but not from the base, newest first
 * @param allTagNames every tag name in the repository, so a version is never given to two commits
 */
public record VersionRequest(
        Flow flow,
        Integer pullRequest,
        String commitId,
        VersionSettings settings,
        Optional<SemVer> fileVersion,
        List<VersionTag> tagsOnCommit,
        Optional<VersionTag> base,
        List<CommitInfo> commitsSinceBase,
        Set<String> allTagNames) {

    public VersionRequest {
        tagsOnCommit = List.copyOf(tagsOnCommit);
        commitsSinceBase = List.copyOf(commitsSinceBase);
        allTagNames = Set.copyOf(allTagNames);
    }
}
