package dev.conveyor.gateway.rest;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import dev.conveyor.gateway.domain.AccessTokens.Caller;
import dev.conveyor.gateway.domain.AccessTokens.Role;
import dev.conveyor.gateway.service.StreamTickets;
import dev.conveyor.gateway.service.StreamTickets.Ticket;
import io.quarkus.runtime.annotations.RegisterForReflection;

/** Who the caller is ({@code GET /auth/me}) and stream tickets ({@code POST /auth/ticket}), for the run page. */
@Path("/auth")
public class AuthResource {

    @Inject
    Access access;

    @Inject
    StreamTickets tickets;

    /**
     * The caller a token names.
     *
     * @param name the token's name
     * @param role viewer or operator
     */
    @RegisterForReflection
    public record Me(String name, String role) {
    }

    /** {@code GET /auth/me}: the token's name and role (the page checks a token with it). */
    @GET
    @Path("me")
    @Produces(MediaType.APPLICATION_JSON)
    public Me me(@HeaderParam("Authorization") String authorization) {
        Caller caller = access.require(authorization, Role.VIEWER);
        return new Me(caller.name(), caller.role().name().toLowerCase(java.util.Locale.ROOT));
    }

    /** {@code POST /auth/ticket}: a short-lived ticket that opens a server-sent event stream. */
    @POST
    @Path("ticket")
    @Produces(MediaType.APPLICATION_JSON)
    public Ticket ticket(@HeaderParam("Authorization") String authorization) {
        return tickets.issue(access.require(authorization, Role.VIEWER));
    }
}
