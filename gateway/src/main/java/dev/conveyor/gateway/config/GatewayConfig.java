package dev.conveyor.gateway.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** The gateway's settings ({@code conveyor.gateway.*}). Secrets come from the environment or a mounted Secret. */
@ConfigMapping(prefix = "conveyor.gateway")
public interface GatewayConfig {

    /** Jenkins hooks. */
    Hook hook();

    /** The run API's write side (replays). */
    Api api();

    /** Who may read runs and replay them. */
    Auth auth();

    /** The run read model. */
    ReadModel readModel();

    interface Hook {
        /**
         * Shared secret for {@code X-Conveyor-Signature: sha256=<hex HMAC-SHA256 of the raw body>}. With neither this
         * nor {@link #token()} set, every hook is refused.
         */
        Optional<String> secret();

        /** Token accepted as {@code Authorization: Bearer <token>}, for senders that cannot sign. */
        Optional<String> token();

        /**
         * Largest hook body accepted, in bytes; a larger one is answered 413. A build report is a few hundred bytes;
         * every field together at its own limit stays under 16 KiB.
         */
        @WithDefault("65536")
        int maxBodyBytes();

        /** Hooks per client address: a burst of {@code requests}, refilled evenly over {@code period}; then 429. */
        HookRateLimit rateLimit();

        /** How long a hook waits for the broker to acknowledge the event it publishes before answering 503. */
        @WithDefault("10s")
        Duration publishTimeout();
    }

    interface HookRateLimit {
        /** Requests a source may make per period (and its burst). */
        @WithDefault("120")
        int requests();

        /** The period. */
        @WithDefault("1m")
        Duration period();
    }

    interface Api {
        /**
         * A single operator token, given as the token itself ({@code Authorization: Bearer <token>}), named
         * {@code api} in the replay audit. Prefer {@code conveyor.gateway.auth.tokens}, which holds only hashes.
         */
        Optional<String> token();

        /** Replays per token: a burst of {@code requests}, refilled evenly over {@code period}; then 429. */
        ReplayRateLimit replayRateLimit();
    }

    interface ReplayRateLimit {
        /** Requests a token may make per period (and its burst). */
        @WithDefault("20")
        int requests();

        /** The period. */
        @WithDefault("1m")
        Duration period();
    }

    interface Auth {
        /**
         * Bearer tokens for the run API, the streams and the page: {@code <name>:<viewer|operator>:<sha256 hex of the
         * token>}, comma-separated. Without any (and without {@code api.token}) every read and replay is refused.
         */
        Optional<List<String>> tokens();

        /** How long a stream ticket (for {@code EventSource}, which cannot send headers) may open a stream. */
        @WithDefault("60s")
        Duration ticketTtl();
    }

    interface ReadModel {
        /** How long one poll of the event log waits for records. */
        @WithDefault("500ms")
        Duration pollTimeout();

        /** How often the reader looks for topics that did not exist yet (and new partitions). */
        @WithDefault("10s")
        Duration topicRefresh();
    }
}
