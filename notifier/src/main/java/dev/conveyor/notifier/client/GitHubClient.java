package dev.conveyor.notifier.client;

import java.net.URI;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;

import com.fasterxml.jackson.databind.JsonNode;

import dev.conveyor.notifier.domain.Delivery;

/**
 * GitHub REST (github.com or Enterprise): commit statuses ({@code POST /repos/{owner}/{repo}/statuses/{sha}}) and one
 * issue comment per run, created once ({@code POST /repos/{owner}/{repo}/issues/{number}/comments}) and then edited
 * ({@code PATCH /repos/{owner}/{repo}/issues/comments/{id}}). The comment carries the hidden marker
 * {@code <!-- conveyor:run <runId> -->}; a creation in doubt first lists the comments updated since shortly before it
 * started ({@code GET /repos/{owner}/{repo}/issues/{number}/comments?since=}) and takes the marked one. Auth:
 * {@code Authorization: Bearer <token>}.
 */
public final class GitHubClient implements ProviderClient {

    private static final int MAX_PAGES = 10;

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
    public Map<String, String> deliver(Delivery d, BiFunction<String, String, Optional<String>> refs,
            Optional<Instant> inDoubtSince) throws DeliveryException {
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
                Map<String, Object> body = Map.of("body", ProviderClient.withRunMarker(d.body(), d.runId()));
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
                if (inDoubtSince.isPresent()) {
                    Optional<String> found = find(path, d.runId(), inDoubtSince.get());
                    if (found.isPresent()) {
                        return Map.of(PR_COMMENT, found.get());
                    }
                }
                JsonNode created = http.call("github POST " + path, "POST", URI.create(api + path), headers, body);
                return Map.of(PR_COMMENT, created.path("id").asText());
            }
            default -> throw new DeliveryException(true, 0, null, "github cannot deliver " + d.kind());
        }
    }

    /**
     * The id of the run's comment among those updated since shortly before {@code since} (the list is oldest first,
     * 100 a page; the newest match wins).
     */
    private Optional<String> find(String path, String runId, Instant since) throws DeliveryException {
        String marker = ProviderClient.runMarker(runId);
        String query = "?since=" + since.minus(LOOKUP_MARGIN).truncatedTo(ChronoUnit.SECONDS) + "&per_page=100";
        Optional<String> found = Optional.empty();
        for (int page = 1; page <= MAX_PAGES; page++) {
            JsonNode comments = http.call("github GET " + path, "GET",
                    URI.create(api + path + query + "&page=" + page), headers, null);
            for (JsonNode c : comments) {
                if (c.path("body").asText("").contains(marker)) {
                    found = Optional.of(c.path("id").asText());
                }
            }
            if (comments.size() < 100) {
                break;
            }
        }
        return found;
    }

    static String trim(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }
}
