package dev.conveyor.gateway.rest;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import dev.conveyor.gateway.domain.AccessTokens;
import dev.conveyor.gateway.domain.AccessTokens.Caller;
import dev.conveyor.gateway.domain.AccessTokens.Role;
import dev.conveyor.gateway.service.GatewayException;
import dev.conveyor.gateway.service.GatewayFailure;
import dev.conveyor.gateway.service.StreamTickets;

/**
 * The one place a request to the run API is tied to a caller: a bearer token (or, for a stream, a ticket) and the role
 * it needs. No valid credential → 401; a valid one whose role is too low → 403. Messages never repeat what was sent.
 *
 * <p>
 * OIDC for people would resolve its caller here too (a verified ID token's name and a role claim); see
 * {@code docs/security.md}.
 */
@ApplicationScoped
public class Access {

    @Inject
    AccessTokens tokens;

    @Inject
    StreamTickets tickets;

    /** The caller of {@code Authorization: Bearer <token>}, if the token's role allows {@code needed}. */
    public Caller require(String authorization, Role needed) {
        Caller caller = tokens.authenticate(authorization).orElseThrow(() -> new GatewayException(
                GatewayFailure.UNAUTHORIZED, "a valid bearer token is required (role " + name(needed) + ")"));
        return allowed(caller, needed);
    }

    /** Like {@link #require}, also accepting a stream ticket (a query parameter, for {@code EventSource}). */
    public Caller requireForStream(String authorization, String ticket) {
        if (authorization == null && ticket != null) {
            return allowed(tickets.redeem(ticket).orElseThrow(() -> new GatewayException(
                    GatewayFailure.UNAUTHORIZED, "the stream ticket is unknown or expired; ask for a new one")),
                    Role.VIEWER);
        }
        return require(authorization, Role.VIEWER);
    }

    private static Caller allowed(Caller caller, Role needed) {
        if (!caller.role().allows(needed)) {
            throw new GatewayException(GatewayFailure.FORBIDDEN,
                    "the token '" + caller.name() + "' has role " + name(caller.role()) + "; this needs "
                            + name(needed));
        }
        return caller;
    }

    private static String name(Role role) {
        return role.name().toLowerCase(java.util.Locale.ROOT);
    }
}
