package dev.conveyor.promoter.client;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

import dev.conveyor.stage.StageException;
import dev.conveyor.stage.git.GitUrls;

/** Small helpers shared by the HTTP adapters: a client with timeouts, basic auth, and failure classification. */
final class HttpSupport {

    static final Duration TIMEOUT = Duration.ofSeconds(30);
    static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NORMAL).build();
    /** For requests that carry credentials to a host that was checked: a redirect is an answer, not followed. */
    static final HttpClient NO_REDIRECTS = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NEVER).build();

    private HttpSupport() {
    }

    static Optional<String> basic(Optional<String> user, Optional<String> password) {
        if (user.isEmpty() || password.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("Basic " + Base64.getEncoder().encodeToString((user.get() + ":" + password.get())
                .getBytes(StandardCharsets.UTF_8)));
    }

    static HttpResponse<byte[]> send(HttpRequest request, Enum<?> unavailable) {
        return send(CLIENT, request, unavailable);
    }

    /** {@link #send} without following a redirect. */
    static HttpResponse<byte[]> sendOnce(HttpRequest request, Enum<?> unavailable) {
        return send(NO_REDIRECTS, request, unavailable);
    }

    private static HttpResponse<byte[]> send(HttpClient client, HttpRequest request, Enum<?> unavailable) {
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw StageException.transientFailure(unavailable, "cannot reach " + GitUrls.redact(request.uri()
                    .toString()) + ": " + e.getClass().getSimpleName(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw StageException.transientFailure(unavailable, "interrupted talking to " + GitUrls.redact(request
                    .uri().toString()), e);
        }
    }

    static HttpRequest.Builder request(URI uri, Optional<String> authorization) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(uri).timeout(TIMEOUT);
        authorization.ifPresent(a -> builder.header("Authorization", a));
        return builder;
    }

    /** Classifies an unexpected status: 401/403 terminal auth, 5xx and 429 transient, others terminal. */
    static StageException unexpected(HttpResponse<?> response, String what, Enum<?> auth, Enum<?> unavailable,
            Enum<?> error) {
        int status = response.statusCode();
        String where = GitUrls.redact(response.uri().toString());
        if (status == 401 || status == 403) {
            return StageException.terminal(auth, what + ": " + where + " refused our credentials (HTTP " + status
                    + ")", Map.of("url", where));
        }
        if (status >= 500 || status == 429) {
            return StageException.transientFailure(unavailable, what + ": " + where + " answered HTTP " + status,
                    null);
        }
        return StageException.terminal(error, what + ": " + where + " answered HTTP " + status, Map.of("url",
                where));
    }
}
