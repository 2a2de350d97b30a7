package dev.conveyor.versioner.domain;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;

import dev.conveyor.events.v1.BumpReason;
import dev.conveyor.events.v1.Flow;

/**
 * The version rules, as a pure function of a {@link VersionRequest}.
 *
 * <ul>
 * <li>CD, the commit already carries a release tag of the app: that version again ({@code EXISTING_TAG}) — a replay or
 * a duplicate event never makes a second tag.</li>
 * <li>No release tag reachable: the initial version ({@code 0.1.0} unless configured), or the version file's.</li>
 * <li>Otherwise the base is bumped by the commits since it that touch the app: any breaking change a major, any
 * {@code feat} a minor, anything else a patch. Before 1.0.0 a breaking change bumps the minor version (0.x is unstable
 * by definition; moving to 1.0.0 is a deliberate act: tag it or set it in the version file).</li>
 * <li>FILE strategy: the file's version is released as is while it is above the base.</li>
 * <li>A version whose tag already exists elsewhere (another branch) is skipped to the next patch, so one version never
 * names two commits.</li>
 * <li>CI: the version the merge would get, as pre-release {@code X.Y.Z-pr.<N>.<sha7>}, never tagged.</li>
 * </ul>
 */
public final class VersionCalculator {

    /** Changes listed in the event at most; the rest are summarised by the count. */
    public static final int MAX_CHANGES = 100;

    private VersionCalculator() {
    }

    /** The version for the request; {@link NothingToRelease} when a monorepo app has no change since its tag. */
    public static VersionResolution resolve(VersionRequest request) {
        VersionSettings settings = request.settings();
        List<CommitInfo> relevant = request.commitsSinceBase().stream().filter(settings::touches).toList();
        List<String> changes = relevant.stream().map(CommitInfo::subject).limit(MAX_CHANGES).toList();
        if (request.flow() == Flow.CD) {
            Optional<VersionTag> existing = request.tagsOnCommit().stream()
                    .filter(t -> !t.version().isPreRelease())
                    .max(Comparator.comparing(VersionTag::version));
            if (existing.isPresent()) {
                SemVer previous = request.base().filter(b -> !b.commitId().equals(request.commitId()))
                        .map(VersionTag::version).orElse(null);
                // The changes since the previous version still belong to it: a run redelivered after a crash that
                // followed its tag push, or replayed, must carry the same changes (and JIRA keys) as the first time.
                return new VersionResolution(existing.get().version(), existing.get().name(), true, previous,
                        BumpReason.EXISTING_TAG, changes);
            }
        }

        SemVer previous = request.base().map(VersionTag::version).orElse(null);

        SemVer next;
        BumpReason reason;
        Optional<SemVer> file = settings.strategy() == VersionStrategy.FILE ? request.fileVersion() : Optional.empty();
        if (file.isPresent() && (previous == null || file.get().compareTo(previous) > 0)) {
            next = release(file.get());
            reason = BumpReason.VERSION_FILE;
        } else if (previous == null) {
            next = settings.initial();
            reason = BumpReason.INITIAL;
        } else {
            if (relevant.isEmpty()) {
                throw new NothingToRelease(previous, request.base().get().name(), settings.paths());
            }
            SemVer.Bump bump = relevant.stream().map(ConventionalCommits::bumpOf)
                    .min(Comparator.naturalOrder()).orElse(SemVer.Bump.PATCH);
            if (bump == SemVer.Bump.MAJOR && previous.major() == 0) {
                bump = SemVer.Bump.MINOR;
            }
            next = previous.bump(bump);
            reason = switch (bump) {
                case MAJOR -> BumpReason.MAJOR;
                case MINOR -> BumpReason.MINOR;
                case PATCH -> BumpReason.PATCH;
            };
        }
        while (request.allTagNames().contains(settings.tagPrefix() + next)) {
            next = next.bump(SemVer.Bump.PATCH);
        }

        if (request.flow() == Flow.CI) {
            String sha7 = request.commitId().substring(0, Math.min(7, request.commitId().length()));
            return new VersionResolution(next.withPreRelease("pr", String.valueOf(request.pullRequest()), sha7), null,
                    false, previous, BumpReason.PRERELEASE, changes);
        }
        return new VersionResolution(next, settings.tagPrefix() + next, false, previous, reason, changes);
    }

    /** The highest release (non-pre-release) tag among {@code reachable}. */
    public static Optional<VersionTag> base(List<VersionTag> reachable) {
        return reachable.stream().filter(t -> !t.version().isPreRelease())
                .max(Comparator.comparing(VersionTag::version));
    }

    private static SemVer release(SemVer version) {
        return SemVer.of(version.major(), version.minor(), version.patch());
    }

    /** A monorepo app has no commit since its last version: nothing to release. */
    public static final class NothingToRelease extends RuntimeException {
        public NothingToRelease(SemVer previous, String tag, List<String> paths) {
            super("no commit since " + tag + " touches " + String.join(", ", paths) + ": nothing to release after "
                    + previous);
        }
    }
}
