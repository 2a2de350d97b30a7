package dev.conveyor.notifier.domain;

import java.util.List;

/**
 * One run's new state after an event, and what changed for the people watching it.
 *
 * @param after the run's state after the event
 * @param notices what to tell, in order
 */
public record RunChange(RunState after, List<Notice> notices) {
}
