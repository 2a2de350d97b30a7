package dev.conveyor.gateway.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

import org.junit.jupiter.api.Test;

import dev.conveyor.gateway.domain.AccessTokens.Caller;
import dev.conveyor.gateway.domain.AccessTokens.Role;

class StreamTicketsTest {

    static final Caller VIEWER = new Caller("viewer", Role.VIEWER);

    Instant now = Instant.parse("2026-03-01T10:00:00Z");
    final Clock clock = new Clock() {
        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    };
    final StreamTickets tickets = new StreamTickets(Duration.ofSeconds(60), clock);

    @Test
    void aTicketNamesItsCallerUntilItExpires() {
        StreamTickets.Ticket ticket = tickets.issue(VIEWER);
        assertThat(ticket.expiresAt()).isEqualTo(now.plusSeconds(60));
        assertThat(ticket.ticket()).hasSize(43).matches("[A-Za-z0-9_-]+");
        assertThat(tickets.redeem(ticket.ticket())).hasValue(VIEWER);
        now = now.plusSeconds(59);
        assertThat(tickets.redeem(ticket.ticket())).as("reusable within its minute (reconnects)").hasValue(VIEWER);
        now = now.plusSeconds(1);
        assertThat(tickets.redeem(ticket.ticket())).isEmpty();
    }

    @Test
    void unknownTicketsOpenNothingAndEachTicketIsNew() {
        assertThat(tickets.redeem(null)).isEmpty();
        assertThat(tickets.redeem("made-up")).isEmpty();
        assertThat(tickets.issue(VIEWER).ticket()).isNotEqualTo(tickets.issue(VIEWER).ticket());
    }
}
