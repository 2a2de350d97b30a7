package dev.conveyor.notifier.client;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;

import com.fasterxml.jackson.databind.JsonNode;

import dev.conveyor.notifier.domain.Delivery;

/**
 * JIRA Cloud REST v3: a comment on an issue ({@code POST /rest/api/3/issue/{key}/comment}, body in Atlassian Document
 * Format) and a transition ({@code POST /rest/api/3/issue/{key}/transitions}). A comment ends with a line naming the
 * run and the call ({@link #marker}); a comment in doubt first lists the issue's newest comments
 * ({@code GET /rest/api/3/issue/{key}/comment?orderBy=-created&maxResults=50}) and takes the marked one. Auth: basic,
 * {@code email:api-token}.
 */
public final class JiraClient implements ProviderClient {

    private static final int LOOKUP_COMMENTS = 50;

    private final String base;
    private final Map<String, String> headers;
    private final HttpCalls http;

    public JiraClient(String baseUrl, String email, String apiToken, HttpCalls http) {
        this.base = GitHubClient.trim(baseUrl);
        String basic = Base64.getEncoder().encodeToString((email + ":" + apiToken).getBytes(StandardCharsets.UTF_8));
        this.headers = Map.of("Authorization", "Basic " + basic);
        this.http = http;
    }

    @Override
    public Map<String, String> deliver(Delivery d, BiFunction<String, String, Optional<String>> refs,
            Optional<Instant> inDoubtSince) throws DeliveryException {
        String issue = "/rest/api/3/issue/" + URLEncoder.encode(d.issueKey(), StandardCharsets.UTF_8);
        switch (d.kind()) {
            case JIRA_COMMENT -> {
                String path = issue + "/comment";
                String marker = marker(d);
                if (inDoubtSince.isPresent()) {
                    Optional<String> found = find(path, marker);
                    if (found.isPresent()) {
                        return Map.of(JIRA_COMMENT + d.issueKey(), found.get());
                    }
                }
                Map<String, Object> doc = adf(d.body() + "\n" + marker);
                JsonNode created = http.call("jira POST " + path, "POST", URI.create(base + path), headers,
                        Map.of("body", doc));
                String id = created.path("id").asText("");
                return id.isEmpty() ? Map.of() : Map.of(JIRA_COMMENT + d.issueKey(), id);
            }
            case JIRA_TRANSITION -> {
                String path = issue + "/transitions";
                http.call("jira POST " + path, "POST", URI.create(base + path), headers,
                        Map.of("transition", Map.of("id", d.transitionId())));
                return Map.of();
            }
            default -> throw new DeliveryException(true, 0, null, "jira cannot deliver " + d.kind());
        }
    }

    /**
     * The last line of the comment: names the run and this very call (the event's id and the call's position), so
     * that a comment made just before a crash is found again. JIRA's comment list gives back the body, not comment
     * properties, so the marker is text.
     */
    static String marker(Delivery d) {
        return "Conveyor run " + d.runId() + " · notice " + d.id();
    }

    /** The id of the newest comment whose text holds {@code marker}, among the issue's newest comments. */
    private Optional<String> find(String path, String marker) throws DeliveryException {
        JsonNode page = http.call("jira GET " + path, "GET",
                URI.create(base + path + "?orderBy=-created&maxResults=" + LOOKUP_COMMENTS), headers, null);
        for (JsonNode c : page.path("comments")) {
            if (text(c.path("body")).contains(marker)) {
                return Optional.of(c.path("id").asText());
            }
        }
        return Optional.empty();
    }

    /** The text of an ADF node, its text nodes joined. */
    static String text(JsonNode node) {
        if (node.isTextual()) {
            return node.asText();
        }
        StringBuilder out = new StringBuilder();
        if (node.has("text")) {
            out.append(node.path("text").asText());
        }
        for (JsonNode child : node.path("content")) {
            out.append(text(child));
        }
        return out.toString();
    }

    /** Plain text as an ADF document: one paragraph per non-empty line, {@code http(s)://} words as links. */
    static Map<String, Object> adf(String text) {
        List<Object> paragraphs = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            List<Object> inline = new ArrayList<>();
            StringBuilder plain = new StringBuilder();
            for (String word : line.split("(?<= )")) {
                String bare = word.strip();
                if (bare.startsWith("https://") || bare.startsWith("http://")) {
                    if (plain.length() > 0) {
                        inline.add(textNode(plain.toString()));
                        plain.setLength(0);
                    }
                    Map<String, Object> link = textNode(bare);
                    link.put("marks", List.of(Map.of("type", "link", "attrs", Map.of("href", bare))));
                    inline.add(link);
                    if (word.endsWith(" ")) {
                        plain.append(' ');
                    }
                } else {
                    plain.append(word);
                }
            }
            if (plain.length() > 0) {
                inline.add(textNode(plain.toString()));
            }
            paragraphs.add(Map.of("type", "paragraph", "content", inline));
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("type", "doc");
        doc.put("version", 1);
        doc.put("content", paragraphs);
        return doc;
    }

    private static Map<String, Object> textNode(String text) {
        Map<String, Object> node = new LinkedHashMap<>();
        node.put("type", "text");
        node.put("text", text);
        return node;
    }
}
