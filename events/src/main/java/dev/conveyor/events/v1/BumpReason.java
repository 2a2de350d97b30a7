package dev.conveyor.events.v1;

/** Why the version is what it is. */
public enum BumpReason {
    /** No earlier version: the strategy's initial version (0.1.0 by default). */
    INITIAL,
    /** A breaking change ({@code !} or {@code BREAKING CHANGE:}) since the previous version. */
    MAJOR,
    /** A {@code feat} commit since the previous version. */
    MINOR,
    /** Only fixes or other commits since the previous version. */
    PATCH,
    /** A pull request build: a pre-release of the next version, not tagged. */
    PRERELEASE,
    /** The commit already carried a version tag, which was reused (a replay or a duplicate event). */
    EXISTING_TAG,
    /** Taken from a version file (VERSION, Chart.yaml, pom.xml). */
    VERSION_FILE
}
