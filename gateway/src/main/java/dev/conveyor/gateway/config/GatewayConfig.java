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

    /** Where run history lives: this replica's disk and the run history topic. */
    History history();

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

    interface History {
        /**
         * This replica's store of every run (embedded H2), kept across restarts so that a start resumes where the
         * last one stopped. Relative to the working directory. One directory per replica: a directory another process
         * holds is not shared (the replica then keeps its history in memory and says so). Unset: in memory, and every
         * start reads the history topic and the retained event log again.
         */
        Optional<java.nio.file.Path> dir();

        /** Timelines kept in memory: the runs used last. Any other run is read from the store when asked for. */
        @WithDefault("2000")
        int cacheRuns();

        /** The compacted topic of run snapshots (one record per run) that every replica writes and reads. */
        @WithDefault("conveyor.gateway.runs")
        String topic();

        /** Partitions of the history topic when the gateway creates it (the deployment may create it instead). */
        @WithDefault("3")
        int topicPartitions();

        /** Whether the gateway creates the history topic (compacted) when it does not exist. */
        @WithDefault("true")
        boolean createTopic();

        /** How often changed runs' snapshots are written to the history topic. */
        @WithDefault("2s")
        java.time.Duration publishInterval();

        /** Snapshots written per batch (each batch waits for the broker's acknowledgement). */
        @WithDefault("500")
        int publishBatch();
    }
}
