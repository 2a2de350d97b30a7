package dev.conveyor.testkit.stubs;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.extension.ResponseDefinitionTransformerV2;
import com.github.tomakehurst.wiremock.http.QueryParameter;
import com.github.tomakehurst.wiremock.http.ResponseDefinition;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

/**
 * The read side of the GitHub, GitLab, Slack and JIRA stubs (the local stack's and the notifier tests'), answered from
 * what was posted: the stubs keep every request they received (WireMock's request journal), and a list call is answered
 * with the objects the earlier create calls made, shaped like the vendors' answers. So a notifier that lost a create call's
 * answer (killed before it journalled it) finds its comment or message again, as it would at GitHub, Slack or JIRA:
 * <ul>
 * <li>GitHub {@code GET /repos/{o}/{r}/issues/{n}/comments} (oldest first, {@code since} honoured): the issue
 * comments posted to that pull request;</li>
 * <li>GitLab {@code GET /projects/:id/merge_requests/:iid/notes} (newest first): the notes posted to it;</li>
 * <li>Slack {@code conversations.list}: every channel posted to, by name and the id the stub answered;
 * {@code conversations.history} and {@code conversations.replies}: the messages posted to the channel (or the thread),
 * newest first, their {@code metadata} only with {@code include_all_metadata=true} ({@code oldest} is not applied: the
 * stub answers every post with the same {@code ts});</li>
 * <li>JIRA {@code GET /rest/api/3/issue/{key}/comment} ({@code orderBy=-created} newest first): the comments posted to
 * the issue, their ADF body as posted.</li>
 * </ul>
 * The ids are those the create calls were answered with. A create counts once it was received with a 2xx answer,
 * even while that answer is still on its way (the vendor made it; the caller may die before reading it).
 */
public final class ProviderStubs implements ResponseDefinitionTransformerV2 {

    public static final String NAME = "conveyor-provider-lookups";
    private static final ObjectMapper JSON = new ObjectMapper();

    private volatile WireMockServer server;

    @Override
    public String getName() {
        return NAME;
    }

    @Override
    public boolean applyGlobally() {
        return false;
    }

    /** Gives the transformer the server whose request journal it reads (created after the transformer). */
    public void attach(WireMockServer stubs) {
        this.server = stubs;
    }

    /** Registers the list calls on {@code stubs}, answered by this transformer. */
    public static void stubLookups(WireMockServer stubs) {
        for (String path : List.of("/github/repos/[^/]+/[^/]+/issues/[0-9]+/comments",
                "/gitlab/api/v4/projects/[^/]+/merge_requests/[0-9]+/notes",
                "/slack/api/conversations\\.(list|history|replies)", "/jira/rest/api/3/issue/[^/]+/comment")) {
            stubs.stubFor(get(urlPathMatching(path)).willReturn(aResponse().withTransformers(NAME)));
        }
    }

    @Override
    public ResponseDefinition transform(ServeEvent event) {
        LoggedRequest request = event.getRequest();
        String path = request.getUrl().replaceFirst("\\?.*$", "");
        JsonNode answer;
        if (path.startsWith("/github/")) {
            answer = github(path, param(request, "since").map(Instant::parse).orElse(Instant.EPOCH));
        } else if (path.startsWith("/gitlab/")) {
            answer = gitlab(path);
        } else if (path.startsWith("/jira/")) {
            answer = jira(path, param(request, "orderBy").orElse("created").startsWith("-"));
        } else {
            answer = slack(path.substring(path.lastIndexOf('/') + 1), request);
        }
        try {
            return new ResponseDefinitionBuilder().withStatus(200).withHeader("Content-Type", "application/json")
                    .withBody(JSON.writeValueAsString(answer)).build();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private JsonNode github(String path, Instant since) {
        ArrayNode out = JSON.createArrayNode();
        for (Created c : created(path)) {
            if (!c.at().isBefore(since)) {
                out.addObject().put("id", c.answer().path("id").asLong()).put("body", c.body().path("body").asText())
                        .put("created_at", c.at().toString()).put("updated_at", c.at().toString());
            }
        }
        return out;
    }

    private JsonNode gitlab(String path) {
        ArrayNode out = JSON.createArrayNode();
        for (Created c : newestFirst(created(path))) {
            out.addObject().put("id", c.answer().path("id").asLong()).put("body", c.body().path("body").asText())
                    .put("created_at", c.at().toString());
        }
        return out;
    }

    private JsonNode jira(String path, boolean newestFirst) {
        List<Created> comments = created(path);
        ObjectNode out = JSON.createObjectNode().put("startAt", 0).put("maxResults", 50).put("total",
                comments.size());
        ArrayNode list = out.putArray("comments");
        for (Created c : newestFirst ? newestFirst(comments) : comments) {
            ObjectNode comment = list.addObject().put("id", c.answer().path("id").asText());
            comment.set("body", c.body().path("body"));
            comment.put("created", c.at().toString());
        }
        return out;
    }

    private JsonNode slack(String method, LoggedRequest request) {
        List<Created> posts = created("/slack/api/chat.postMessage");
        ObjectNode out = JSON.createObjectNode().put("ok", true);
        if ("conversations.list".equals(method)) {
            Map<String, String> channels = new LinkedHashMap<>();
            for (Created c : posts) {
                String name = c.body().path("channel").asText();
                channels.putIfAbsent(name.startsWith("#") ? name.substring(1) : name, c.answer().path("channel")
                        .asText());
            }
            ArrayNode list = out.putArray("channels");
            channels.forEach((name, id) -> list.addObject().put("id", id).put("name", name));
            return out;
        }
        String channel = param(request, "channel").orElse("");
        Optional<String> thread = "conversations.replies".equals(method) ? param(request, "ts") : Optional.empty();
        boolean metadata = param(request, "include_all_metadata").filter("true"::equals).isPresent();
        Predicate<Created> inPlace = c -> channel.equals(c.answer().path("channel").asText())
                && thread.map(t -> t.equals(c.body().path("thread_ts").asText())).orElse(!c.body().has(
                        "thread_ts"));
        ArrayNode messages = out.putArray("messages");
        for (Created c : newestFirst(posts.stream().filter(inPlace).toList())) {
            ObjectNode m = messages.addObject().put("type", "message").put("ts", c.answer().path("ts").asText())
                    .put("text", c.body().path("text").asText());
            if (metadata && c.body().has("metadata")) {
                m.set("metadata", c.body().path("metadata"));
            }
        }
        out.put("has_more", false);
        return out;
    }

    /** A create call the stubs answered 2xx: when, what was posted, what was answered. */
    private record Created(Instant at, JsonNode body, JsonNode answer) {
    }

    /** The POSTs to exactly {@code path} answered 2xx, oldest first. */
    private List<Created> created(String path) {
        WireMockServer stubs = server;
        if (stubs == null) {
            return List.of();
        }
        List<Created> out = new ArrayList<>();
        for (ServeEvent e : stubs.getAllServeEvents()) {
            LoggedRequest r = e.getRequest();
            // the answer the stub gives, even while it is still being sent: the vendor made it when it was asked
            ResponseDefinition answer = e.getResponseDefinition();
            int status = answer == null ? 0 : answer.getStatus();
            if ("POST".equals(r.getMethod().getName()) && path.equals(r.getUrl().replaceFirst("\\?.*$", ""))
                    && status >= 200 && status < 300) {
                out.add(new Created(r.getLoggedDate().toInstant(), parse(r.getBodyAsString()),
                        parse(answer.getBody())));
            }
        }
        out.sort(Comparator.comparing(Created::at));
        return out;
    }

    private static List<Created> newestFirst(List<Created> oldestFirst) {
        List<Created> out = new ArrayList<>(oldestFirst);
        java.util.Collections.reverse(out);
        return out;
    }

    private static Optional<String> param(LoggedRequest request, String name) {
        QueryParameter p = request.queryParameter(name);
        return p != null && p.isPresent() ? Optional.of(p.firstValue()) : Optional.empty();
    }

    private static JsonNode parse(String body) {
        try {
            JsonNode node = body == null || body.isBlank() ? null : JSON.readTree(body);
            return node == null ? MissingNode.getInstance() : node;
        } catch (JsonProcessingException e) {
            return MissingNode.getInstance();
        }
    }
}
