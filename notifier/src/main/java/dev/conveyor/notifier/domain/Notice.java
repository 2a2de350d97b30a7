package dev.conveyor.notifier.domain;

/** What an event means for the people watching a run; the service turns notices into provider calls. */
public sealed interface Notice {

    /** A stage's commit status changed. */
    record StatusChanged(String stage, StatusState state) implements Notice {
    }

    /** The run's summary (PR comment, Slack message) changed. */
    record SummaryChanged() implements Notice {
    }

    /** A failure to post in the Slack thread. */
    record FailureSeen(Failure failure) implements Notice {
    }

    /** The run reached its end (CI: manifests validated; CD: deployed), or failed: worth a webhook message. */
    record Milestone() implements Notice {
    }

    /** The run's release is now in the cluster through this GitOps repository: JIRA comments and transitions. */
    record Deployed(Deployment deployment) implements Notice {
    }
}
