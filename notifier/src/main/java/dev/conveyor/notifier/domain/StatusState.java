package dev.conveyor.notifier.domain;

/** State of one stage of a run, as shown in a commit status. */
public enum StatusState {
    PENDING, SUCCESS, FAILURE;

    /** Whether the stage has finished; a finished stage never goes back to pending within one attempt. */
    public boolean finished() {
        return this != PENDING;
    }
}
