package dev.conveyor.notifier.client;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import dev.conveyor.notifier.domain.Delivery;

/**
 * Slack: with a bot token, one message per run ({@code chat.postMessage}, then {@code chat.update} with the channel id
 * and {@code ts} it answered) and failures as replies in its thread ({@code thread_ts}); without one, an incoming
 * webhook. Slack answers 200 with {@code ok:false} for refusals: {@code ratelimited} is transient, the rest permanent.
 *
 * <p>
 * Every message posted carries message metadata ({@code conveyor_run} for the run's message, {@code conveyor_failure}
 * for a reply, with the run id and the call's id). A post in doubt first resolves the channel's id
 * ({@code conversations.list}, when the channel is configured by name) and reads the messages since shortly before it
 * started ({@code conversations.history}, or {@code conversations.replies} for a reply in a thread, with
 * {@code include_all_metadata=true}); a message with the same metadata is taken instead of posting again. Scopes:
 * {@code chat:write}, and for that lookup {@code channels:read}, {@code channels:history} (and {@code groups:read},
 * {@code groups:history} for private channels). An incoming webhook cannot be read back: it stays at-least-once.
 */
public final class SlackClient implements ProviderClient {

    static final String RUN_EVENT = "conveyor_run";
    static final String FAILURE_EVENT = "conveyor_failure";
    private static final Pattern CHANNEL_ID = Pattern.compile("[CGD][A-Z0-9]{6,}");
    private static final int MAX_PAGES = 10;

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
    public Map<String, String> deliver(Delivery d, BiFunction<String, String, Optional<String>> refs,
            Optional<Instant> inDoubtSince) throws DeliveryException {
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
                Optional<String> channel = inDoubtSince.isPresent() ? channelId(d.channel()) : Optional.empty();
                if (channel.isPresent()) {
                    Optional<JsonNode> found = find("conversations.history", "channel=" + enc(channel.get()),
                            inDoubtSince.get(), RUN_EVENT, p -> d.runId().equals(p.path("run_id").asText()));
                    if (found.isPresent()) {
                        return Map.of(SLACK_CHANNEL, channel.get(), SLACK_TS, found.get().path("ts").asText());
                    }
                }
                body.put("channel", d.channel());
                body.put("text", d.body());
                body.put("blocks", blocks);
                body.put("metadata", metadata(RUN_EVENT, d));
                JsonNode posted = web("chat.postMessage", body);
                return Map.of(SLACK_CHANNEL, posted.path("channel").asText(d.channel()), SLACK_TS,
                        posted.path("ts").asText());
            }
            case SLACK_REPLY -> {
                Map<String, Object> body = new LinkedHashMap<>();
                String channel = refs.apply(d.runId(), SLACK_CHANNEL).orElse(d.channel());
                Optional<String> thread = refs.apply(d.runId(), SLACK_TS);
                Optional<String> id = inDoubtSince.isPresent() ? channelId(channel) : Optional.empty();
                if (id.isPresent()) {
                    String where = "channel=" + enc(id.get()) + thread.map(t -> "&ts=" + enc(t)).orElse("");
                    if (find(thread.isPresent() ? "conversations.replies" : "conversations.history", where,
                            inDoubtSince.get(), FAILURE_EVENT, p -> d.id().equals(p.path("notice").asText()))
                            .isPresent()) {
                        return Map.of();
                    }
                }
                body.put("channel", channel);
                thread.ifPresent(ts -> body.put("thread_ts", ts));
                body.put("text", d.body());
                body.put("blocks", blocks);
                body.put("metadata", metadata(FAILURE_EVENT, d));
                web("chat.postMessage", body);
                return Map.of();
            }
            default -> throw new DeliveryException(true, 0, null, "slack cannot deliver " + d.kind());
        }
    }

    /** Slack message metadata naming the run and the call. */
    private static Map<String, Object> metadata(String type, Delivery d) {
        return Map.of("event_type", type, "event_payload", Map.of("run_id", d.runId(), "notice", d.id()));
    }

    /**
     * The newest message since shortly before {@code since} whose metadata has {@code type} and a payload that
     * {@code matches}, reading up to {@value #MAX_PAGES} pages.
     */
    private Optional<JsonNode> find(String method, String where, Instant since, String type,
            java.util.function.Predicate<JsonNode> matches) throws DeliveryException {
        long oldest = since.minus(LOOKUP_MARGIN).getEpochSecond();
        String cursor = "";
        for (int page = 0; page < MAX_PAGES; page++) {
            JsonNode answer = read(method, where + "&oldest=" + oldest + "&include_all_metadata=true&limit=200"
                    + (cursor.isEmpty() ? "" : "&cursor=" + enc(cursor)));
            for (JsonNode m : answer.path("messages")) {
                JsonNode meta = m.path("metadata");
                if (type.equals(meta.path("event_type").asText()) && matches.test(meta.path("event_payload"))) {
                    return Optional.of(m);
                }
            }
            cursor = answer.path("response_metadata").path("next_cursor").asText("");
            if (cursor.isEmpty()) {
                break;
            }
        }
        return Optional.empty();
    }

    /**
     * A channel's id: as configured when it is one, else looked up by name among the channels the bot can see. None
     * when the bot sees no such channel: then no post to it can have succeeded either.
     */
    private Optional<String> channelId(String channel) throws DeliveryException {
        if (CHANNEL_ID.matcher(channel).matches()) {
            return Optional.of(channel);
        }
        String name = channel.startsWith("#") ? channel.substring(1) : channel;
        String cursor = "";
        for (int page = 0; page < MAX_PAGES; page++) {
            JsonNode answer = read("conversations.list", "exclude_archived=true&types=public_channel,private_channel"
                    + "&limit=1000" + (cursor.isEmpty() ? "" : "&cursor=" + enc(cursor)));
            for (JsonNode c : answer.path("channels")) {
                if (name.equals(c.path("name").asText())) {
                    return Optional.of(c.path("id").asText());
                }
            }
            cursor = answer.path("response_metadata").path("next_cursor").asText("");
            if (cursor.isEmpty()) {
                break;
            }
        }
        return Optional.empty();
    }

    private JsonNode read(String method, String query) throws DeliveryException {
        return check("slack " + method, http.call("slack " + method, "GET", URI.create(api + "/" + method + "?"
                + query), Map.of("Authorization", "Bearer " + token.orElseThrow()), null));
    }

    private JsonNode web(String method, Map<String, Object> body) throws DeliveryException {
        return check("slack " + method, http.call("slack " + method, "POST", URI.create(api + "/" + method),
                Map.of("Authorization", "Bearer " + token.orElseThrow()), body));
    }

    private JsonNode check(String what, JsonNode answer) throws DeliveryException {
        if (!answer.path("ok").asBoolean(false)) {
            String error = answer.path("error").asText("unknown");
            boolean limited = "ratelimited".equals(error);
            throw new DeliveryException(!limited, limited ? 429 : 200, null, what + ": " + http.scrub(error));
        }
        return answer;
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
