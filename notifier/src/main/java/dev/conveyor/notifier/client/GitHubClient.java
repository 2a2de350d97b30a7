package dev.conveyor.notifier.client;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;

import com.fasterxml.jackson.databind.JsonNode;

import dev.conveyor.notifier.domain.Delivery;

/**
 * GitHub REST (github.com or Enterprise): commit statuses ({@code POST /repos/{owner}/{repo}/statuses/{sha}}) and one
 * issue comment per run, created once ({@code POST /repos/{owner}/{repo}/issues/{number}/comments}) and then edited
 * ({@code PATCH /repos/{owner}/{repo}/issues/comments/{id}}). Auth: {@code Authorization: Bearer <token>}.
 */
public final class GitHubClient implements ProviderClient {

    private final String api;
    private final Map<String, String> headers;
    private final HttpCalls http;

    public GitHubClient(String apiUrl, String token, HttpCalls http) {
        this.api = trim(apiUrl);
        this.headers = Map.of("Authorization", "Bearer " + token, "Accept", "application/vnd.github+json",
                "X-GitHub-Api-Version", "2022-11-28");
        this.http = http;
    }

    @Override
    public Map<String, String> deliver(Delivery d, BiFunction<String, String, Optional<String>> refs)
            throws DeliveryException {
        switch (d.kind()) {
            case COMMIT_STATUS -> {
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("state", d.state());
                body.put("target_url", d.targetUrl());
                body.put("description", d.description());
                body.put("context", d.context());
                String path = "/repos/" + d.repo() + "/statuses/" + d.sha();
                http.call("github POST " + path, "POST", URI.create(api + path), headers, body);
                return Map.of();
            }
            case PR_COMMENT -> {
                Map<String, Object> body = Map.of("body", d.body());
                Optional<String> id = refs.apply(d.runId(), PR_COMMENT);
                if (id.isPresent()) {
                    String path = "/repos/" + d.repo() + "/issues/comments/" + id.get();
                    try {
                        http.call("github PATCH " + path, "PATCH", URI.create(api + path), headers, body);
                        return Map.of();
                    } catch (DeliveryException e) {
                        if (e.status() != 404) {
                            throw e;
                        }
                        // someone deleted the comment: post a new one below
                    }
                }
                String path = "/repos/" + d.repo() + "/issues/" + d.number() + "/comments";
                JsonNode created = http.call("github POST " + path, "POST", URI.create(api + path), headers, body);
                return Map.of(PR_COMMENT, created.path("id").asText());
            }
            default -> throw new DeliveryException(true, 0, null, "github cannot deliver " + d.kind());
        }
    }

    static String trim(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }
}
