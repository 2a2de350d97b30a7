package dev.conveyor.local;

import java.time.Instant;

/**
 * One request the notification stubs received ({@code GET /__admin/requests}).
 *
 * @param id WireMock's id of the request
 * @param method the HTTP method
 * @param url the path and query, e.g. {@code /slack/api/chat.postMessage}
 * @param body the body as text
 * @param loggedAt when the stubs received it
 */
public record ChaosStubRequest(String id, String method, String url, String body, Instant loggedAt) {

    /** Whether the body names the run (the run page link carries the run id). */
    public boolean mentions(String runId) {
        return body != null && body.contains(runId);
    }

    public boolean isSlackPost() {
        return "POST".equals(method) && url.startsWith("/slack/api/chat.postMessage");
    }

    public boolean isSlackUpdate() {
        return "POST".equals(method) && url.startsWith("/slack/api/chat.update");
    }

    public boolean isJiraComment() {
        return "POST".equals(method) && url.matches("/jira/rest/api/3/issue/[A-Z][A-Z0-9]+-[0-9]+/comment.*");
    }

    public boolean isJiraTransition(String issueKey) {
        return "POST".equals(method) && url.startsWith("/jira/rest/api/3/issue/" + issueKey + "/transitions");
    }
}
