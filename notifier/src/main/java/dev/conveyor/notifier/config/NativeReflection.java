package dev.conveyor.notifier.config;

import dev.conveyor.notifier.domain.Notice;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * Reflection registrations for a native image beyond the {@code @RegisterForReflection} records of the state store.
 * The notices below are built in the same class as Slack's JSON, so the metadata check counts them as possibly bound
 * by Jackson; registering two empty records is cheaper than proving they never are.
 */
@RegisterForReflection(targets = {Notice.Milestone.class, Notice.SummaryChanged.class})
public final class NativeReflection {

    private NativeReflection() {
    }
}
