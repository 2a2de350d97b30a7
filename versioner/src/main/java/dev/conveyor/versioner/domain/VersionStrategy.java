package dev.conveyor.versioner.domain;

/** Where an app's versions come from. */
public enum VersionStrategy {
    /** The highest reachable version tag, bumped by the conventional commits since it (the default). */
    TAGS,
    /**
     * A version file (VERSION, Chart.yaml, pom.xml) gives the base: its version is released as is while it is above
     * every tag, and bumped by conventional commits once it has been tagged.
     */
    FILE
}
