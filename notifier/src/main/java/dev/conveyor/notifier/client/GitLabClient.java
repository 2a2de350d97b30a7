package dev.conveyor.notifier.client;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;

import com.fasterxml.jackson.databind.JsonNode;

import dev.conveyor.notifier.domain.Delivery;

/**
 * GitLab REST v4: commit statuses ({@code POST /projects/:id/statuses/:sha}, states pending/success/failed) and one
 * merge request note per run ({@code POST /projects/:id/merge_requests/:iid/notes}, then
 * {@code PUT .../notes/:note_id}). The project id is the URL-encoded path. The note carries the hidden marker
 * {@code <!-- conveyor:run <runId> -->}; a creation in doubt first lists the newest notes
 * ({@code GET .../notes?sort=desc&order_by=created_at&per_page=100}) and takes the marked one. Auth:
 * {@code PRIVATE-TOKEN}.
 */
public final class GitLabClient implements ProviderClient {

    private final String api;
    private final Map<String, String> headers;
    private final HttpCalls http;

    public GitLabClient(String apiUrl, String token, HttpCalls http) {
        this.api = GitHubClient.trim(apiUrl);
        this.headers = Map.of("PRIVATE-TOKEN", token);
        this.http = http;
    }

    @Override
    public Map<String, String> deliver(Delivery d, BiFunction<String, String, Optional<String>> refs,
            Optional<Instant> inDoubtSince) throws DeliveryException {
        String project = "/projects/" + URLEncoder.encode(d.repo(), StandardCharsets.UTF_8);
        switch (d.kind()) {
            case COMMIT_STATUS -> {
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("state", "failure".equals(d.state()) ? "failed" : d.state());
                body.put("name", d.context());
                body.put("target_url", d.targetUrl());
                body.put("description", d.description());
                String path = project + "/statuses/" + d.sha();
                http.call("gitlab POST " + path, "POST", URI.create(api + path), headers, body);
                return Map.of();
            }
            case PR_COMMENT -> {
                Map<String, Object> body = Map.of("body", ProviderClient.withRunMarker(d.body(), d.runId()));
                String notes = project + "/merge_requests/" + d.number() + "/notes";
                Optional<String> id = refs.apply(d.runId(), PR_COMMENT);
                if (id.isPresent()) {
                    String path = notes + "/" + id.get();
                    try {
                        http.call("gitlab PUT " + path, "PUT", URI.create(api + path), headers, body);
                        return Map.of();
                    } catch (DeliveryException e) {
                        if (e.status() != 404) {
                            throw e;
                        }
                    }
                }
                if (inDoubtSince.isPresent()) {
                    Optional<String> found = find(notes, d.runId());
                    if (found.isPresent()) {
                        return Map.of(PR_COMMENT, found.get());
                    }
                }
                JsonNode created = http.call("gitlab POST " + notes, "POST", URI.create(api + notes), headers, body);
                return Map.of(PR_COMMENT, created.path("id").asText());
            }
            default -> throw new DeliveryException(true, 0, null, "gitlab cannot deliver " + d.kind());
        }
    }

    /** The id of the run's note among the merge request's newest notes. */
    private Optional<String> find(String notes, String runId) throws DeliveryException {
        String marker = ProviderClient.runMarker(runId);
        JsonNode list = http.call("gitlab GET " + notes, "GET",
                URI.create(api + notes + "?sort=desc&order_by=created_at&per_page=100"), headers, null);
        for (JsonNode n : list) {
            if (n.path("body").asText("").contains(marker)) {
                return Optional.of(n.path("id").asText());
            }
        }
        return Optional.empty();
    }
}
