package dev.conveyor.local;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import dev.conveyor.events.v1.Flow;

/**
 * What the chaos suite found about one run, where each effect lives: the event topics (read from the start), the app
 * and GitOps remotes, the image store, the notification stubs. {@link ChaosInvariants} judges it.
 *
 * @param runId the run
 * @param flow CD or CI
 * @param commit the commit the run builds
 * @param jiraKey the JIRA issue key the commit message names (null if none)
 * @param ended whether the run reached a terminal state within the deadline
 * @param deadline the deadline it had
 * @param events every record of every event topic
 * @param tags every tag of the app repository
 * @param appCommitMessages the full message of every commit reachable from the app repository's refs
 * @param gitopsCommitMessages the same for the GitOps repository
 * @param storedDigests the image store's digest for each version tag of the app's image that it holds (empty when
 *        it cannot be read)
 * @param stubRequests every request the notification stubs received
 * @param jiraTransitionConfigured whether the notifier is configured to transition JIRA issues on deploy
 */
public record ChaosRunFacts(String runId, Flow flow, String commit, String jiraKey, boolean ended, Duration deadline,
        List<ChaosEvent> events, List<GitTag> tags, List<String> appCommitMessages, List<String> gitopsCommitMessages,
        Map<String, String> storedDigests, List<ChaosStubRequest> stubRequests, boolean jiraTransitionConfigured) {

    /** A tag: its name, the commit it points at, its message (annotated tags; empty otherwise). */
    public record GitTag(String name, String commitId, String message) {
    }
}
