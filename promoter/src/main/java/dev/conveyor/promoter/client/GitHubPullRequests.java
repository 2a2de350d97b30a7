package dev.conveyor.promoter.client;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.conveyor.stage.StageException;
import dev.conveyor.stage.git.GitUrls;

/**
 * Opens pull requests through GitHub's REST API, at most one per head branch: an open pull request for the branch is
 * looked up first and reused, so a replay never opens a second one. The token is sent only as a bearer header and
 * never appears in messages.
 */
public final class GitHubPullRequests {

    /** Reason codes of the pull-request API. */
    public enum Failure {
        /** Pull-request mode without a configured token. Terminal. */
        PULL_REQUEST_NOT_CONFIGURED,
        /** GitHub refused the token. Terminal. */
        PULL_REQUEST_AUTH_DENIED,
        /** GitHub could not be reached or answered with a server error. Transient. */
        PULL_REQUEST_UNAVAILABLE,
        /** GitHub refused the pull request (e.g. unknown base branch). Terminal. */
        PULL_REQUEST_REFUSED
    }

    /** A repository's owner and name. */
    public record RepoSlug(String owner, String name) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String apiUrl;
    private final Optional<String> token;

    public GitHubPullRequests(String apiUrl, Optional<String> token) {
        this.apiUrl = apiUrl.endsWith("/") ? apiUrl.substring(0, apiUrl.length() - 1) : apiUrl;
        this.token = token.filter(t -> !t.isBlank());
    }

    /**
     * The open pull request from {@code head} into {@code base}, opened now when there is none.
     *
     * @return the pull request's web URL
     */
    public String ensure(RepoSlug slug, String head, String base, String title, String body) {
        String auth = "Bearer " + token.orElseThrow(() -> StageException.terminal(
                Failure.PULL_REQUEST_NOT_CONFIGURED, "pull-request mode needs conveyor.promoter.github.token",
                Map.of("field", "conveyor.promoter.github.token")));
        Optional<String> open = findOpen(slug, head, auth);
        if (open.isPresent()) {
            return open.get();
        }
        Map<String, String> request = new LinkedHashMap<>();
        request.put("title", title);
        request.put("head", head);
        request.put("base", base);
        request.put("body", body);
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(request);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        HttpResponse<byte[]> response = HttpSupport.send(github(URI.create(apiUrl + "/repos/" + slug.owner() + "/"
                + slug.name() + "/pulls"), auth).header("Content-Type", "application/json").POST(
                        HttpRequest.BodyPublishers.ofByteArray(json))
                .build(), Failure.PULL_REQUEST_UNAVAILABLE);
        if (response.statusCode() == 201) {
            return htmlUrl(read(response));
        }
        if (response.statusCode() == 422) {
            // "A pull request already exists": opened concurrently; use it.
            Optional<String> raced = findOpen(slug, head, auth);
            if (raced.isPresent()) {
                return raced.get();
            }
        }
        throw HttpSupport.unexpected(response, "opening a pull request on " + slug.owner() + "/" + slug.name(),
                Failure.PULL_REQUEST_AUTH_DENIED, Failure.PULL_REQUEST_UNAVAILABLE, Failure.PULL_REQUEST_REFUSED);
    }

    /** The newest pull request from {@code head} in {@code state} ({@code open}, {@code closed}, {@code all}). */
    public Optional<String> find(RepoSlug slug, String head, String state) {
        return find(slug, head, state, "Bearer " + token.orElseThrow(() -> StageException.terminal(
                Failure.PULL_REQUEST_NOT_CONFIGURED, "pull-request mode needs conveyor.promoter.github.token",
                Map.of("field", "conveyor.promoter.github.token"))));
    }

    private Optional<String> findOpen(RepoSlug slug, String head, String auth) {
        return find(slug, head, "open", auth);
    }

    private Optional<String> find(RepoSlug slug, String head, String state, String auth) {
        String query = "head=" + URLEncoder.encode(slug.owner() + ":" + head, StandardCharsets.UTF_8)
                + "&state=" + state;
        HttpResponse<byte[]> response = HttpSupport.send(github(URI.create(apiUrl + "/repos/" + slug.owner() + "/"
                + slug.name() + "/pulls?" + query), auth).GET().build(), Failure.PULL_REQUEST_UNAVAILABLE);
        if (response.statusCode() != 200) {
            throw HttpSupport.unexpected(response, "listing pull requests of " + slug.owner() + "/" + slug.name(),
                    Failure.PULL_REQUEST_AUTH_DENIED, Failure.PULL_REQUEST_UNAVAILABLE,
                    Failure.PULL_REQUEST_REFUSED);
        }
        JsonNode list = read(response);
        return list.isArray() && !list.isEmpty() ? Optional.of(htmlUrl(list.get(0))) : Optional.empty();
    }

    private static HttpRequest.Builder github(URI uri, String auth) {
        return HttpSupport.request(uri, Optional.of(auth)).header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28");
    }

    private static JsonNode read(HttpResponse<byte[]> response) {
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw StageException.terminal(Failure.PULL_REQUEST_REFUSED, "GitHub answered unreadable JSON from "
                    + response.uri().getPath());
        }
    }

    private static String htmlUrl(JsonNode pr) {
        String url = pr.path("html_url").asText("");
        if (url.isEmpty()) {
            throw StageException.terminal(Failure.PULL_REQUEST_REFUSED, "GitHub's pull request has no html_url");
        }
        return url;
    }

    /** Owner and name from a repository URL: {@code https://github.com/o/r.git}, {@code git@github.com:o/r.git}. */
    public static RepoSlug slug(String repoUrl) {
        String path = GitUrls.redact(repoUrl);
        int scheme = path.indexOf("://");
        if (scheme >= 0) {
            String rest = path.substring(scheme + 3);
            int slash = rest.indexOf('/');
            path = slash < 0 ? "" : rest.substring(slash + 1);
        } else if (path.contains(":")) {
            path = path.substring(path.indexOf(':') + 1);
        }
        if (path.endsWith(".git")) {
            path = path.substring(0, path.length() - 4);
        }
        String[] parts = path.split("/");
        if (parts.length < 2 || parts[parts.length - 1].isEmpty() || parts[parts.length - 2].isEmpty()) {
            throw StageException.terminal(Failure.PULL_REQUEST_NOT_CONFIGURED, "cannot tell the GitHub owner and "
                    + "repository from " + GitUrls.redact(repoUrl), Map.of("field", "gitops-repo"));
        }
        return new RepoSlug(parts[parts.length - 2], parts[parts.length - 1]);
    }
}
