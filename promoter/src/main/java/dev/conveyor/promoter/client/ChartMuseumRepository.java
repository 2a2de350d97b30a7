package dev.conveyor.promoter.client;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.conveyor.stage.StageException;
import dev.conveyor.stage.git.GitUrls;

/**
 * A ChartMuseum-style upload API: {@code GET /api/charts/<name>/<version>} tells whether (and with which digest) a
 * version is there, {@code POST /api/charts} uploads the package. A 409 on upload means someone published the same
 * version meanwhile; its digest decides between already published and a conflict.
 */
public final class ChartMuseumRepository implements ChartRepository {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String id;
    private final String url;
    private final Optional<String> authorization;

    public ChartMuseumRepository(String id, String url, Optional<String> username, Optional<String> password) {
        this.id = id;
        this.url = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        this.authorization = HttpSupport.basic(username, password);
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String url() {
        return GitUrls.redact(url);
    }

    @Override
    public Outcome publish(PackagedChart chart, String runId) {
        Optional<String> existing = digest(chart);
        if (existing.isPresent()) {
            return compare(chart, existing.get());
        }
        byte[] body;
        try {
            body = java.nio.file.Files.readAllBytes(chart.file());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        HttpResponse<byte[]> response = HttpSupport.send(HttpSupport.request(URI.create(url + "/api/charts"),
                authorization).header("Content-Type", "application/octet-stream").POST(HttpRequest.BodyPublishers
                        .ofByteArray(body))
                .build(), Failure.CHART_REPO_UNAVAILABLE);
        if (response.statusCode() == 201 || response.statusCode() == 200) {
            return Outcome.PUBLISHED;
        }
        if (response.statusCode() == 409) {
            return compare(chart, digest(chart).orElseThrow(() -> StageException.transientFailure(
                    Failure.CHART_REPO_UNAVAILABLE, url() + " refused " + chart.fileName()
                            + " as existing but does not list it",
                    null)));
        }
        throw HttpSupport.unexpected(response, "uploading " + chart.fileName(), Failure.CHART_REPO_AUTH_DENIED,
                Failure.CHART_REPO_UNAVAILABLE, Failure.CHART_REPO_ERROR);
    }

    private Outcome compare(PackagedChart chart, String digest) {
        if (digest.equals(chart.digestHex()) || digest.equals(chart.digest())) {
            return Outcome.ALREADY_PUBLISHED;
        }
        throw StageException.terminal(Failure.CHART_VERSION_CONFLICT, "chart " + chart.name() + " " + chart.version()
                + " is already in " + url() + " with digest " + digest + "; chart versions are immutable",
                Map.of(
                        "repository", id));
    }

    private Optional<String> digest(PackagedChart chart) {
        HttpResponse<byte[]> response = HttpSupport.send(HttpSupport.request(URI.create(url + "/api/charts/"
                + chart.name() + "/" + chart.version()), authorization).GET().build(),
                Failure.CHART_REPO_UNAVAILABLE);
        if (response.statusCode() == 404) {
            return Optional.empty();
        }
        if (response.statusCode() != 200) {
            throw HttpSupport.unexpected(response, "looking up " + chart.fileName(), Failure.CHART_REPO_AUTH_DENIED,
                    Failure.CHART_REPO_UNAVAILABLE, Failure.CHART_REPO_ERROR);
        }
        try {
            JsonNode node = JSON.readTree(response.body());
            String digest = node.path("digest").asText("");
            if (digest.isEmpty()) {
                throw StageException.terminal(Failure.CHART_REPO_ERROR, url() + " lists " + chart.fileName()
                        + " without a digest", Map.of("repository", id));
            }
            return Optional.of(digest);
        } catch (IOException e) {
            throw StageException.terminal(Failure.CHART_REPO_ERROR, url() + " answered an unreadable chart entry",
                    Map.of("repository", id));
        }
    }
}
