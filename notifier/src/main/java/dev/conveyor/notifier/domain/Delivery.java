package dev.conveyor.notifier.domain;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * One call to make to one provider, fully rendered when the event is handled, so it can be journalled, survive a
 * restart and be retried without the event. Fields not used by a kind are {@code null}.
 *
 * @param id deterministic: the event's CloudEvents id and the call's position among the event's calls
 * @param provider who receives it
 * @param kind what it is
 * @param runId the run it reports on; per-run references (PR comment id, Slack ts) are kept under it
 * @param app the app id, for logs
 * @param repo GitHub {@code owner/repo} or GitLab project path
 * @param sha commit of a commit status
 * @param number PR / MR number
 * @param context commit status context, {@code conveyor/<stage>}
 * @param state commit status state: {@code pending}, {@code success}, {@code failure}
 * @param targetUrl link of a commit status
 * @param description commit status description
 * @param body comment body (Markdown for PRs, plain text for JIRA) or Slack fallback text
 * @param blocks Slack Block Kit blocks as JSON
 * @param channel Slack channel
 * @param issueKey JIRA issue key
 * @param transitionId JIRA transition id
 */
@RegisterForReflection
public record Delivery(String id, ProviderKind provider, Kind kind, String runId, String app, String repo, String sha,
        Integer number, String context, String state, String targetUrl, String description, String body, String blocks,
        String channel, String issueKey, String transitionId) {

    public enum Kind {
        COMMIT_STATUS, PR_COMMENT, SLACK_MESSAGE, SLACK_REPLY, SLACK_WEBHOOK, JIRA_COMMENT, JIRA_TRANSITION
    }

    public static Delivery status(ProviderKind provider, String runId, String app, String repo, String sha,
            String context, String state, String targetUrl, String description) {
        return new Delivery(null, provider, Kind.COMMIT_STATUS, runId, app, repo, sha, null, context, state, targetUrl,
                description, null, null, null, null, null);
    }

    public static Delivery prComment(ProviderKind provider, String runId, String app, String repo, int number,
            String body) {
        return new Delivery(null, provider, Kind.PR_COMMENT, runId, app, repo, null, number, null, null, null, null,
                body, null, null, null, null);
    }

    public static Delivery slack(Kind kind, String runId, String app, String channel, String text, String blocks) {
        return new Delivery(null, ProviderKind.SLACK, kind, runId, app, null, null, null, null, null, null, null, text,
                blocks, channel, null, null);
    }

    public static Delivery jiraComment(String runId, String app, String issueKey, String body) {
        return new Delivery(null, ProviderKind.JIRA, Kind.JIRA_COMMENT, runId, app, null, null, null, null, null, null,
                null, body, null, null, issueKey, null);
    }

    public static Delivery jiraTransition(String runId, String app, String issueKey, String transitionId) {
        return new Delivery(null, ProviderKind.JIRA, Kind.JIRA_TRANSITION, runId, app, null, null, null, null, null,
                null, null, null, null, null, issueKey, transitionId);
    }

    public Delivery withId(String newId) {
        return new Delivery(newId, provider, kind, runId, app, repo, sha, number, context, state, targetUrl,
                description, body, blocks, channel, issueKey, transitionId);
    }

    /** A description for logs: never a token, a webhook URL or a message body. */
    public String describe() {
        return provider.id() + " " + kind.name().toLowerCase(java.util.Locale.ROOT) + " for app " + app + " run "
                + runId + (issueKey == null ? "" : " issue " + issueKey);
    }
}
