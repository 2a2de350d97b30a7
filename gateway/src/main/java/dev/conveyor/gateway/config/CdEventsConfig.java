package dev.conveyor.gateway.config;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * The CDEvents mirror ({@code conveyor.cdevents.*}): every Conveyor event also published as CDEvents (see
 * {@code events/README.md}, "CDEvents mirror"). Off unless {@link #enabled()}.
 */
@ConfigMapping(prefix = "conveyor.cdevents")
public interface CdEventsConfig {

    /** Whether the gateway runs the mirror. */
    @WithDefault("false")
    boolean enabled();

    /** The Kafka topic the CDEvents are written to (CloudEvents Kafka binary mode, key = app id). */
    @WithDefault("cdevents")
    String topic();

    /** The mirror's consumer group: one group for all gateway replicas, so each event is mirrored once. */
    @WithDefault("conveyor-cdevents-mirror")
    String groupId();

    /** How long one poll of the Conveyor topics waits. */
    @WithDefault("500ms")
    Duration pollTimeout();

    /** How soon a Conveyor topic created after start is mirrored too. */
    @WithDefault("10s")
    Duration topicRefresh();

    /** The optional HTTP sink. */
    Sink sink();

    interface Sink {
        /** Where each CDEvent is POSTed in the CloudEvents HTTP binary mode; none by default. */
        Optional<URI> url();

        /** One POST's timeout. */
        @WithDefault("5s")
        Duration timeout();

        /** POSTs per CDEvent before the sink failure is counted and the mirror moves on. */
        @WithDefault("3")
        int attempts();
    }
}
