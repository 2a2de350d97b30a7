package dev.conveyor.gateway.service;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.conveyor.events.v1.BuildFailed;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.gateway.domain.FieldError;
import dev.conveyor.gateway.domain.HookRejectedException;
import dev.conveyor.gateway.domain.HookUrls;
import dev.conveyor.gateway.domain.JenkinsHooks;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * Turns an authenticated Jenkins hook into the run's first event, once.
 *
 * <p>
 * A hook delivered again (Jenkins retries, a proxy replays) yields the same run id and publishes nothing: the read
 * model knows the run, and runs accepted by this instance but not yet read back are remembered meanwhile. A new build
 * of the same commit after a failed build (a different build URL) is the run's next attempt. Even if two instances
 * raced, the event's CloudEvents id is deterministic, so consumers deduplicate it.
 */
public class HookService {

    private static final Logger LOG = Logger.getLogger(HookService.class);
    private static final int REMEMBERED = 10_000;

    /** Deepest nesting a hook may have: a build report nests two levels; anything deeper is refused unparsed. */
    static final int MAX_DEPTH = 8;

    private final ObjectMapper json = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH)
                    .maxNumberLength(64).maxNameLength(4096).build())
            .build()).enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private final RunReadModel readModel;
    private final Consumer<List<ConveyorEvent>> publisher;
    private final Clock clock;
    private final Map<String, ConveyorEvent> accepted = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, ConveyorEvent> eldest) {
            return size() > REMEMBERED;
        }
    };

    private final HookUrls urls;

    public HookService(RunReadModel readModel, Consumer<List<ConveyorEvent>> publisher, Clock clock, HookUrls urls) {
        this.urls = urls;
        this.readModel = readModel;
        this.publisher = publisher;
        this.clock = clock;
    }

    /**
     * What the hook answers.
     *
     * @param runId the run's id (the same for a redelivered hook)
     * @param attempt the run's attempt the hook belongs to
     * @param event {@code BuildSucceeded} or {@code BuildFailed}
     * @param duplicate true when nothing was published because the hook was seen before
     */
    @RegisterForReflection
    public record HookResult(String runId, int attempt, String event, boolean duplicate) {
    }

    /**
     * Validates the hook body and publishes its event unless the run already has it.
     *
     * @throws GatewayException {@code INVALID_HOOK} naming every bad field, or {@code PUBLISH_FAILED}
     */
    public synchronized HookResult receive(byte[] body) {
        JsonNode node = parse(body);
        ConveyorEvent event;
        try {
            event = JenkinsHooks.toEvent(node, clock.instant());
            urls.require(event);
        } catch (HookRejectedException e) {
            throw new GatewayException(e.tooLarge() ? GatewayFailure.FIELD_TOO_LARGE : GatewayFailure.INVALID_HOOK,
                    e.errors().size() + " invalid field(s) in the hook", e.errors());
        }
        String runId = event.run().runId();
        Optional<ConveyorEvent> previous = previousBuild(runId);
        if (previous.isPresent()) {
            ConveyorEvent before = previous.get();
            if (!(before instanceof BuildFailed failed) || failed.buildUrl().equals(buildUrl(event))) {
                LOG.infof("hook for run %s of %s seen before; nothing published", runId, event.run().app());
                return new HookResult(runId, before.run().attempt(), before.eventType().eventName(), true);
            }
            int attempt = Math.max(before.run().attempt(), readModel.withRun(runId, t -> t.attempt()).orElse(1)) + 1;
            event = JenkinsHooks.toEvent(node, clock.instant(), attempt);
        }
        publisher.accept(List.of(event));
        accepted.put(runId, event);
        LOG.infof("run %s attempt %d of %s: %s published", runId, event.run().attempt(), event.run().app(),
                event.eventType().eventName());
        return new HookResult(runId, event.run().attempt(), event.eventType().eventName(), false);
    }

    /** The body as JSON: strict UTF-8 (no other encoding is guessed), at most {@link #MAX_DEPTH} levels deep. */
    private JsonNode parse(byte[] body) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            throw new GatewayException(GatewayFailure.INVALID_HOOK, "the body is not UTF-8",
                    List.of(new FieldError("$", "is not UTF-8")));
        }
        try {
            return json.readTree(text);
        } catch (StreamConstraintsException e) {
            throw new GatewayException(GatewayFailure.INVALID_HOOK, "the body is nested or sized beyond the limits",
                    List.of(new FieldError("$", "nests deeper than " + MAX_DEPTH
                            + " levels or has a number or name too long")));
        } catch (IOException e) {
            // Jackson's message quotes the input: not repeated to the sender.
            throw new GatewayException(GatewayFailure.INVALID_HOOK, "the body is not valid JSON",
                    List.of(new FieldError("$", "is not valid JSON")));
        }
    }

    private Optional<ConveyorEvent> previousBuild(String runId) {
        Optional<ConveyorEvent> known = readModel.withRun(runId, t -> t.latestBuild().orElse(null));
        ConveyorEvent mine = accepted.get(runId);
        if (known.isEmpty()) {
            return Optional.ofNullable(mine);
        }
        return mine != null && mine.run().attempt() > known.get().run().attempt() ? Optional.of(mine) : known;
    }

    private static String buildUrl(ConveyorEvent event) {
        return event instanceof BuildSucceeded s ? s.buildUrl() : ((BuildFailed) event).buildUrl();
    }
}
