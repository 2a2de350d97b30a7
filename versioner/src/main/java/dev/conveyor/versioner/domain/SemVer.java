package dev.conveyor.versioner.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A semantic version (semver.org 2.0.0) with its precedence: numeric core, then pre-release identifiers (numeric ones
 * compared as numbers, a release above any of its pre-releases); build metadata is kept but ignored for order.
 */
public record SemVer(int major, int minor, int patch, List<String> preRelease, String build)
        implements
            Comparable<SemVer> {

    private static final Pattern FORMAT = Pattern.compile(
            "(0|[1-9]\\d{0,8})\\.(0|[1-9]\\d{0,8})\\.(0|[1-9]\\d{0,8})"
                    + "(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
                    + "(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?");

    public SemVer {
        preRelease = List.copyOf(preRelease);
    }

    /** A release version without pre-release or build parts. */
    public static SemVer of(int major, int minor, int patch) {
        return new SemVer(major, minor, patch, List.of(), null);
    }

    /** Parses a version such as {@code 1.4.0}, {@code 1.4.0-rc.1} or {@code 1.4.0+b7}; empty when it is not one. */
    public static Optional<SemVer> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        Matcher m = FORMAT.matcher(text.trim());
        if (!m.matches()) {
            return Optional.empty();
        }
        List<String> pre = m.group(4) == null ? List.of() : List.of(m.group(4).split("\\."));
        return Optional.of(new SemVer(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                Integer.parseInt(m.group(3)), pre, m.group(5)));
    }

    public boolean isPreRelease() {
        return !preRelease.isEmpty();
    }

    /** The release with the given bump applied; pre-release and build parts are dropped. */
    public SemVer bump(Bump bump) {
        return switch (bump) {
            case MAJOR -> of(major + 1, 0, 0);
            case MINOR -> of(major, minor + 1, 0);
            case PATCH -> of(major, minor, patch + 1);
        };
    }

    /** This version with the given pre-release identifiers. */
    public SemVer withPreRelease(String... identifiers) {
        return new SemVer(major, minor, patch, List.of(identifiers), null);
    }

    @Override
    public int compareTo(SemVer other) {
        int c = Integer.compare(major, other.major);
        if (c == 0) {
            c = Integer.compare(minor, other.minor);
        }
        if (c == 0) {
            c = Integer.compare(patch, other.patch);
        }
        if (c != 0) {
            return c;
        }
        if (preRelease.isEmpty() || other.preRelease.isEmpty()) {
            return Boolean.compare(preRelease.isEmpty(), other.preRelease.isEmpty());
        }
        for (int i = 0; i < Math.min(preRelease.size(), other.preRelease.size()); i++) {
            c = compareIdentifier(preRelease.get(i), other.preRelease.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(preRelease.size(), other.preRelease.size());
    }

    private static int compareIdentifier(String a, String b) {
        boolean aNum = a.chars().allMatch(Character::isDigit);
        boolean bNum = b.chars().allMatch(Character::isDigit);
        if (aNum && bNum) {
            return new java.math.BigInteger(a).compareTo(new java.math.BigInteger(b));
        }
        if (aNum != bNum) {
            return aNum ? -1 : 1;
        }
        return a.compareTo(b);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder().append(major).append('.').append(minor).append('.').append(patch);
        if (!preRelease.isEmpty()) {
            s.append('-').append(String.join(".", preRelease));
        }
        if (build != null) {
            s.append('+').append(build);
        }
        return s.toString();
    }

    /** The three release bumps. */
    public enum Bump {
        MAJOR, MINOR, PATCH
    }

    static List<String> identifiers(String... parts) {
        return new ArrayList<>(List.of(parts));
    }
}
