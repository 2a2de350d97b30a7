package dev.conveyor.notifier.client;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;

import dev.conveyor.notifier.domain.Delivery;

/**
 * One provider's API: makes one {@link Delivery} and returns the per-run references it produced.
 *
 * <p>
 * A call that creates something (a PR comment, an MR note, a Slack message or reply, a JIRA comment) carries a marker
 * the provider gives back when its objects are listed. When the call is in doubt (it was started before a crash, or a
 * previous attempt failed in a way that may have reached the provider), the client first lists what the provider has
 * and, when the marker is there, returns the reference it found instead of creating it again. Idempotent calls (commit
 * statuses, edits, {@code chat.update}, transitions) are simply made again.
 */
public interface ProviderClient {

    /** Per-run reference keys kept in the state journal. */
    String PR_COMMENT = "pr-comment";
    String SLACK_CHANNEL = "slack-channel";
    String SLACK_TS = "slack-ts";
    /** Prefix of the per-run reference to the last JIRA comment on an issue: {@code jira-comment:<key>}. */
    String JIRA_COMMENT = "jira-comment:";

    /** How far before the start of an in-doubt call the provider is asked, for clock differences. */
    Duration LOOKUP_MARGIN = Duration.ofMinutes(10);

    /**
     * @param delivery the call
     * @param refs the stored per-run references, by run id and key
     * @param inDoubtSince when the call was first started, if it may already have reached the provider; the client
     *        then looks for it before creating anything
     * @return references to store for the run (e.g. the new or found comment's id); empty when none
     */
    Map<String, String> deliver(Delivery delivery, BiFunction<String, String, Optional<String>> refs,
            Optional<Instant> inDoubtSince) throws DeliveryException;

    /** The hidden marker of a run's PR comment or MR note (Markdown comment, invisible when rendered). */
    static String runMarker(String runId) {
        return "<!-- conveyor:run " + runId + " -->";
    }

    /** {@code body} with the run's marker, added at the end when a template override left it out. */
    static String withRunMarker(String body, String runId) {
        String marker = runMarker(runId);
        return body.contains(marker) ? body : body + "\n\n" + marker;
    }
}
