package dev.conveyor.gateway.rest;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import jakarta.inject.Inject;
import jakarta.inject.Named;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.jboss.resteasy.reactive.RestStreamElementType;

import dev.conveyor.events.v1.Flow;
import dev.conveyor.gateway.domain.AccessTokens.Caller;
import dev.conveyor.gateway.domain.AccessTokens.Role;
import dev.conveyor.gateway.domain.FieldError;
import dev.conveyor.gateway.domain.RateLimiter;
import dev.conveyor.gateway.domain.Views.RunUpdate;
import dev.conveyor.gateway.domain.Views.RunView;
import dev.conveyor.gateway.domain.Views.Status;
import dev.conveyor.gateway.service.GatewayException;
import dev.conveyor.gateway.service.GatewayFailure;
import dev.conveyor.gateway.service.ReplayService;
import dev.conveyor.gateway.service.RunReadModel;
import io.smallrye.mutiny.Multi;

/**
 * The run API: timelines, live streams of run events, and replays. Reading needs a viewer (or operator) token,
 * replaying an operator token; the streams also take a short-lived ticket ({@link AuthResource}).
 */
@Path("/")
public class RunResource {

    static final int MAX_LIMIT = 1000;

    @Inject
    RunReadModel readModel;

    @Inject
    ReplayService replays;

    @Inject
    Access access;

    @Inject
    @Named("replays")
    RateLimiter replayLimits;

    /** {@code GET /runs?app=&status=&flow=&limit=}: runs, newest first, without their events. */
    @GET
    @Path("runs")
    @Produces(MediaType.APPLICATION_JSON)
    public List<RunView> list(@QueryParam("app") String app, @QueryParam("status") String status,
            @QueryParam("flow") String flow, @QueryParam("limit") @DefaultValue("100") int limit,
            @HeaderParam("Authorization") String authorization) {
        access.require(authorization, Role.VIEWER);
        Optional<Status> statusFilter = parse(Status.class, "status", status);
        Optional<Flow> flowFilter = parse(Flow.class, "flow", flow);
        if (limit < 1 || limit > MAX_LIMIT) {
            throw invalid("limit", "must be between 1 and " + MAX_LIMIT);
        }
        return readModel.list(Optional.ofNullable(app).filter(a -> !a.isBlank()), statusFilter, flowFilter, limit);
    }

    /** {@code GET /runs/{id}}: one run's timeline with every event. */
    @GET
    @Path("runs/{id}")
    @Produces(MediaType.APPLICATION_JSON)
    public RunView get(@PathParam("id") String id, @HeaderParam("Authorization") String authorization) {
        access.require(authorization, Role.VIEWER);
        return readModel.get(id).orElseThrow(() -> unknownRun(id));
    }

    /**
     * {@code GET /runs/{id}/events}: server-sent events, one per event of the run as the read model applies it, each
     * with the run's timeline after it; the first carries the current timeline and no event.
     */
    @GET
    @Path("runs/{id}/events")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @RestStreamElementType(MediaType.APPLICATION_JSON)
    public Multi<RunUpdate> events(@PathParam("id") String id, @HeaderParam("Authorization") String authorization,
            @QueryParam("ticket") String ticket) {
        access.requireForStream(authorization, ticket);
        if (readModel.get(id).isEmpty()) {
            throw unknownRun(id);
        }
        return readModel.stream(id);
    }

    /** {@code GET /runs/stream}: server-sent events for every run, as summaries: what the run list follows. */
    @GET
    @Path("runs/stream")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @RestStreamElementType(MediaType.APPLICATION_JSON)
    public Multi<RunUpdate> stream(@HeaderParam("Authorization") String authorization,
            @QueryParam("ticket") String ticket) {
        access.requireForStream(authorization, ticket);
        return readModel.streamAll();
    }

    /** {@code POST /runs/{id}/replay?from=<stage>}: re-runs the run from the stage, as its next attempt. */
    @POST
    @Path("runs/{id}/replay")
    @Produces(MediaType.APPLICATION_JSON)
    public Response replay(@PathParam("id") String id, @QueryParam("from") String from,
            @HeaderParam("Authorization") String authorization) {
        Caller caller = operator(authorization);
        return Response.accepted(replays.replay(id, from, caller.name())).build();
    }

    /**
     * {@code POST /apps/{app}/replay?from=<stage>&since=<instant>&until=<instant>}: replays every run of the app that
     * started in the window (until defaults to now).
     */
    @POST
    @Path("apps/{app}/replay")
    @Produces(MediaType.APPLICATION_JSON)
    public Response replayWindow(@PathParam("app") String app, @QueryParam("from") String from,
            @QueryParam("since") String since, @QueryParam("until") String until,
            @HeaderParam("Authorization") String authorization) {
        Caller caller = operator(authorization);
        Instant start = instant("since", since).orElseThrow(() -> invalid("since", "is required (ISO-8601 instant)"));
        Instant end = instant("until", until).orElseGet(Instant::now);
        return Response.accepted(replays.replayWindow(app, from, start, end, caller.name())).build();
    }

    /** An operator within the replay rate limit (429 with {@code Retry-After} beyond it). */
    private Caller operator(String authorization) {
        Caller caller = access.require(authorization, Role.OPERATOR);
        replayLimits.acquire(caller.name()).ifPresent(wait -> {
            throw GatewayException.retryAfter(GatewayFailure.RATE_LIMITED,
                    "too many replays by '" + caller.name() + "'; try again later", wait);
        });
        return caller;
    }

    private static Optional<Instant> instant(String field, String value) {
        if (value == null || value.isBlank()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.parse(value));
        } catch (DateTimeParseException e) {
            throw invalid(field, "must be an ISO-8601 instant such as 2026-01-31T10:15:30Z");
        }
    }

    private static <E extends Enum<E>> Optional<E> parse(Class<E> type, String field, String value) {
        if (value == null || value.isBlank()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Enum.valueOf(type, value.toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            throw invalid(field, "must be one of " + List.of(type.getEnumConstants()));
        }
    }

    private static GatewayException invalid(String field, String message) {
        GatewayFailure reason = field.equals("since") || field.equals("until")
                ? GatewayFailure.INVALID_WINDOW
                : GatewayFailure.INVALID_QUERY;
        return new GatewayException(reason, field + " " + message, List.of(new FieldError(field, message)));
    }

    private static GatewayException unknownRun(String id) {
        return new GatewayException(GatewayFailure.UNKNOWN_RUN, "no run " + id);
    }
}
