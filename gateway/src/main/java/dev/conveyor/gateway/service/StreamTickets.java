package dev.conveyor.gateway.service;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import dev.conveyor.gateway.domain.AccessTokens.Caller;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * Short-lived tickets that open a server-sent event stream: a browser's {@code EventSource} cannot send an
 * {@code Authorization} header, so the page trades its token for a ticket ({@code POST /auth/ticket}) and puts the
 * ticket in the stream's URL. A ticket is 256 random bits, names the caller it was issued to, only opens streams
 * (never replays) and expires after the configured time; a stream already open stays open.
 */
public class StreamTickets {

    /** Outstanding tickets kept at most; beyond that the oldest are dropped (their streams must ask again). */
    static final int MAX_TICKETS = 10_000;

    private final SecureRandom random = new SecureRandom();
    private final Duration ttl;
    private final Clock clock;
    private final Map<String, Issued> tickets = new HashMap<>();

    private record Issued(Caller caller, Instant expiresAt) {
    }

    /**
     * A ticket as handed out.
     *
     * @param ticket the value for the stream URL's {@code ticket} parameter
     * @param expiresAt after this it opens nothing
     */
    @RegisterForReflection
    public record Ticket(String ticket, Instant expiresAt) {
    }

    public StreamTickets(Duration ttl, Clock clock) {
        this.ttl = ttl;
        this.clock = clock;
    }

    /** A new ticket for {@code caller}. */
    public synchronized Ticket issue(Caller caller) {
        Instant now = clock.instant();
        tickets.values().removeIf(t -> !t.expiresAt().isAfter(now));
        if (tickets.size() >= MAX_TICKETS) {
            tickets.entrySet().stream().min(Map.Entry.comparingByValue(
                    java.util.Comparator.comparing(Issued::expiresAt))).map(Map.Entry::getKey)
                    .ifPresent(tickets::remove);
        }
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String value = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        Instant expiresAt = now.plus(ttl);
        tickets.put(value, new Issued(caller, expiresAt));
        return new Ticket(value, expiresAt);
    }

    /** Who a ticket was issued to, while it has not expired. */
    public synchronized Optional<Caller> redeem(String ticket) {
        if (ticket == null) {
            return Optional.empty();
        }
        Issued issued = tickets.get(ticket);
        if (issued == null) {
            return Optional.empty();
        }
        if (!issued.expiresAt().isAfter(clock.instant())) {
            tickets.remove(ticket);
            return Optional.empty();
        }
        return Optional.of(issued.caller());
    }
}
