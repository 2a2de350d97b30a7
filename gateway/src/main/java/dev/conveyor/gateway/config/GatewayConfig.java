package dev.conveyor.gateway.config;

import java.time.Duration;
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

        /** Largest hook body accepted, in bytes; a larger one is answered 413. */
        @WithDefault("1048576")
        int maxBodyBytes();

        /** How long a hook waits for the broker to acknowledge the event it publishes before answering 503. */
        @WithDefault("10s")
        Duration publishTimeout();
    }

    interface Api {
        /** Token for replays ({@code Authorization: Bearer <token>}). Without it, replays are refused (401). */
        Optional<String> token();
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
