package dev.conveyor.notifier.client;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;

/**
 * JSON over HTTP for one provider: its own {@link HttpClient}, request timeout and secrets to scrub. Classifies every
 * answer into success, a transient {@link DeliveryException} (with {@code Retry-After}) or a permanent one.
 */
public final class HttpCalls {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_ERROR_CHARS = 200;

    private volatile HttpClient http;
    private final Duration timeout;
    private final List<String> secrets;
    private final Clock clock;

    public HttpCalls(Duration timeout, List<String> secrets, Clock clock) {
        this.timeout = timeout;
        this.secrets = new ArrayList<>(secrets.stream().filter(s -> s != null && !s.isBlank()).toList());
        this.clock = clock;
    }

    /**
     * The HTTP client, built on the first call rather than at start: building one reads the JDK's trust store and
     * starts a selector thread, which the service's start need not wait for.
     */
    private HttpClient client() {
        HttpClient c = http;
        if (c == null) {
            synchronized (this) {
                c = http;
                if (c == null) {
                    c = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER)
                            .build();
                    http = c;
                }
            }
        }
        return c;
    }

    /**
     * Sends one JSON request.
     *
     * @param what a safe description of the call for messages, e.g. {@code github POST /repos/o/r/statuses/<sha>}
     * @return the response body as JSON ({@link MissingNode} when empty or not JSON)
     */
    public JsonNode call(String what, String method, URI uri, Map<String, String> headers, Object body)
            throws DeliveryException {
        HttpRequest.Builder req = HttpRequest.newBuilder(uri).timeout(timeout)
                .header("Accept", "application/json");
        headers.forEach(req::header);
        if (body == null) {
            req.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            try {
                req.header("Content-Type", "application/json; charset=utf-8").method(method,
                        HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
            } catch (IOException e) {
                throw new DeliveryException(true, 0, null, what + ": cannot write the request body");
            }
        }
        HttpResponse<String> response;
        try {
            response = client().send(req.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // the exception's message may carry the URL (a Slack webhook URL is a secret): only its type is kept
            throw new DeliveryException(false, 0, null, what + ": network failure (" + e.getClass().getSimpleName()
                    + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeliveryException(false, 0, null, what + ": interrupted");
        }
        int status = response.statusCode();
        JsonNode json = parse(response.body());
        if (status >= 200 && status < 300) {
            return json;
        }
        Duration retryAfter = response.headers().firstValue("Retry-After").map(this::retryAfter).orElse(null);
        String message = what + ": HTTP " + status + errorText(json);
        boolean transientStatus = status == 408 || status == 429 || status >= 500;
        throw new DeliveryException(!transientStatus, status, retryAfter, scrub(message));
    }

    /** Removes every configured secret from a text. */
    public String scrub(String text) {
        String out = text;
        for (String s : secrets) {
            out = out.replace(s, "***");
        }
        return out;
    }

    static JsonNode parse(String body) {
        if (body == null || body.isBlank()) {
            return MissingNode.getInstance();
        }
        try {
            JsonNode node = JSON.readTree(body);
            return node == null ? MissingNode.getInstance() : node;
        } catch (IOException e) {
            return MissingNode.getInstance();
        }
    }

    /** {@code Retry-After} as delay-seconds or an HTTP date; {@code null} when unreadable. */
    Duration retryAfter(String value) {
        String v = value.trim();
        try {
            return Duration.ofSeconds(Math.max(0, Long.parseLong(v)));
        } catch (NumberFormatException e) {
            try {
                Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                Duration d = Duration.between(clock.instant(), at);
                return d.isNegative() ? Duration.ZERO : d;
            } catch (DateTimeParseException e2) {
                return null;
            }
        }
    }

    private static String errorText(JsonNode json) {
        // GitHub/GitLab "message", Slack "error", JIRA "errorMessages": short vendor codes worth keeping
        for (String field : List.of("message", "error", "errorMessages")) {
            JsonNode n = json.path(field);
            if (!n.isMissingNode() && !n.isNull()) {
                String text = n.isTextual() ? n.asText() : n.toString();
                return " (" + (text.length() > MAX_ERROR_CHARS ? text.substring(0, MAX_ERROR_CHARS) + "…" : text)
                        + ")";
            }
        }
        return "";
    }
}
