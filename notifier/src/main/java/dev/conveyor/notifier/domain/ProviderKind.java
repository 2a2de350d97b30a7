package dev.conveyor.notifier.domain;

import io.quarkus.runtime.annotations.RegisterForReflection;

/** The systems the notifier talks to; each has its own queue and worker, so one down never delays another. */
@RegisterForReflection
public enum ProviderKind {
    GITHUB("github"), GITLAB("gitlab"), SLACK("slack"), JIRA("jira");

    private final String id;

    ProviderKind(String id) {
        this.id = id;
    }

    /** Lower-case name used in metric labels and logs. */
    public String id() {
        return id;
    }
}
