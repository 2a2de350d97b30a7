package dev.conveyor.notifier.domain;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * State of one stage of a run, as shown in a commit status. Declared in the order a stage's state may move within one
 * attempt (a failure outranks a success, whichever arrives first), so the fold takes the highest.
 */
@RegisterForReflection
public enum StatusState {
    PENDING, SUCCESS, FAILURE;

    /** Whether the stage has finished; a finished stage never goes back to pending within one attempt. */
    public boolean finished() {
        return this != PENDING;
    }
}
