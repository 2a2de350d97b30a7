package dev.conveyor.notifier.client;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;

import com.fasterxml.jackson.databind.JsonNode;

import dev.conveyor.notifier.domain.Delivery;

/**
 * Slack: with a bot token, one message per run ({@code chat.postMessage}, then {@code chat.update} with the channel id
 * and {@code ts} it answered) and failures as replies in its thread ({@code thread_ts}); without one, an incoming
 * webhook. Slack answers 200 with {@code ok:false} for refusals: {@code ratelimited} is transient, the rest permanent.
 */
public final class SlackClient implements ProviderClient {

    private final String api;
    private final Optional<String> token;
    private final Optional<URI> webhook;
    private final HttpCalls http;

    public SlackClient(String apiUrl, Optional<String> token, Optional<String> webhookUrl, HttpCalls http) {
        this.api = GitHubClient.trim(apiUrl);
        this.token = token;
        this.webhook = webhookUrl.map(URI::create);
        this.http = http;
    }

    @Override
    public Map<String, String> deliver(Delivery d, BiFunction<String, String, Optional<String>> refs)
            throws DeliveryException {
        JsonNode blocks = HttpCalls.parse(d.blocks());
        switch (d.kind()) {
            case SLACK_WEBHOOK -> {
                if (webhook.isEmpty()) {
                    throw new DeliveryException(true, 0, null, "slack webhook: no webhook URL configured");
                }
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("text", d.body());
                body.put("blocks", blocks);
                // the webhook URL is a secret: the description names it only as "incoming webhook"
                http.call("slack incoming webhook", "POST", webhook.get(), Map.of(), body);
                return Map.of();
            }
            case SLACK_MESSAGE -> {
                Optional<String> ts = refs.apply(d.runId(), SLACK_TS);
                Map<String, Object> body = new LinkedHashMap<>();
                if (ts.isPresent()) {
                    body.put("channel", refs.apply(d.runId(), SLACK_CHANNEL).orElse(d.channel()));
                    body.put("ts", ts.get());
                    body.put("text", d.body());
                    body.put("blocks", blocks);
                    web("chat.update", body);
                    return Map.of();
                }
                body.put("channel", d.channel());
                body.put("text", d.body());
                body.put("blocks", blocks);
                JsonNode posted = web("chat.postMessage", body);
                return Map.of(SLACK_CHANNEL, posted.path("channel").asText(d.channel()), SLACK_TS,
                        posted.path("ts").asText());
            }
            case SLACK_REPLY -> {
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("channel", refs.apply(d.runId(), SLACK_CHANNEL).orElse(d.channel()));
                refs.apply(d.runId(), SLACK_TS).ifPresent(ts -> body.put("thread_ts", ts));
                body.put("text", d.body());
                body.put("blocks", blocks);
                web("chat.postMessage", body);
                return Map.of();
            }
            default -> throw new DeliveryException(true, 0, null, "slack cannot deliver " + d.kind());
        }
    }

    private JsonNode web(String method, Map<String, Object> body) throws DeliveryException {
        String what = "slack " + method;
        JsonNode answer = http.call(what, "POST", URI.create(api + "/" + method),
                Map.of("Authorization", "Bearer " + token.orElseThrow()), body);
        if (!answer.path("ok").asBoolean(false)) {
            String error = answer.path("error").asText("unknown");
            boolean limited = "ratelimited".equals(error);
            throw new DeliveryException(!limited, limited ? 429 : 200, null, what + ": " + http.scrub(error));
        }
        return answer;
    }
}
