package dev.conveyor.notifier.client;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;

import dev.conveyor.notifier.domain.Delivery;

/**
 * JIRA Cloud REST v3: a comment on an issue ({@code POST /rest/api/3/issue/{key}/comment}, body in Atlassian Document
 * Format) and a transition ({@code POST /rest/api/3/issue/{key}/transitions}). Auth: basic, {@code email:api-token}.
 */
public final class JiraClient implements ProviderClient {

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
    public Map<String, String> deliver(Delivery d, BiFunction<String, String, Optional<String>> refs)
            throws DeliveryException {
        String issue = "/rest/api/3/issue/" + URLEncoder.encode(d.issueKey(), StandardCharsets.UTF_8);
        switch (d.kind()) {
            case JIRA_COMMENT -> {
                String path = issue + "/comment";
                http.call("jira POST " + path, "POST", URI.create(base + path), headers, Map.of("body", adf(d.body())));
                return Map.of();
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
