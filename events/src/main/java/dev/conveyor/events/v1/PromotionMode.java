package dev.conveyor.events.v1;

/** How a release reached a GitOps repository. */
public enum PromotionMode {
    /** Committed and pushed straight to the environment's branch. */
    AUTO,
    /** Pushed to a branch with a pull request opened for review. */
    PULL_REQUEST
}
