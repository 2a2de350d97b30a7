package dev.conveyor.versioner.domain;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the bump a commit asks for under Conventional Commits 1.0: {@code type(scope)!: description}, with
 * {@code BREAKING CHANGE:} (or {@code BREAKING-CHANGE:}) footers. {@code feat} is a minor change, {@code fix} and
 * {@code perf} patches, any breaking marker a major change; everything else, conventional or not, is a patch.
 */
public final class ConventionalCommits {

    private static final Pattern HEADER = Pattern.compile("^([a-zA-Z]+)(\\([^()\\r\\n]*\\))?(!)?:\\s+\\S.*");
    private static final Pattern BREAKING_FOOTER = Pattern.compile("(?m)^BREAKING[ -]CHANGE:\\s*\\S");

    private ConventionalCommits() {
    }

    /** The bump the commit asks for. */
    public static SemVer.Bump bumpOf(CommitInfo commit) {
        if (isBreaking(commit)) {
            return SemVer.Bump.MAJOR;
        }
        return type(commit.subject()).filter("feat"::equals).isPresent() ? SemVer.Bump.MINOR : SemVer.Bump.PATCH;
    }

    /** Whether the commit declares a breaking change. */
    public static boolean isBreaking(CommitInfo commit) {
        Matcher header = HEADER.matcher(commit.subject());
        return header.matches() && header.group(3) != null
                || commit.body() != null && BREAKING_FOOTER.matcher(commit.body()).find();
    }

    /** The conventional type of a subject, lower-cased, if it has one. */
    public static Optional<String> type(String subject) {
        Matcher header = HEADER.matcher(subject == null ? "" : subject);
        return header.matches() ? Optional.of(header.group(1).toLowerCase(Locale.ROOT)) : Optional.empty();
    }
}
