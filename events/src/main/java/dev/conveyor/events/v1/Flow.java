package dev.conveyor.events.v1;

/** Which of the two pipelines a run belongs to. */
public enum Flow {
    /** A pull request: pre-release version, image, rendered diff, notifications. Nothing is tagged or committed. */
    CI,
    /** The default branch after a merge: tagged release, manifests committed, chart promoted, synced to clusters. */
    CD
}
