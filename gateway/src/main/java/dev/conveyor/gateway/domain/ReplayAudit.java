package dev.conveyor.gateway.domain;

import java.time.Instant;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * Who replayed a run, when and from which stage: carried as CloudEvents extension attributes ({@code ce_replayby},
 * {@code ce_replayat}, {@code ce_replayfrom}) on every event a replay re-publishes, so the event log records it.
 *
 * @param by the name of the operator's token (never the token)
 * @param at when the replay was asked for
 * @param from the stage replayed from
 * @param attempt the run attempt the replay started
 */
@RegisterForReflection
public record ReplayAudit(String by, Instant at, String from, int attempt) {

    /** CloudEvents extension attribute: the token name. */
    public static final String BY = "replayby";
    /** CloudEvents extension attribute: the instant, ISO-8601. */
    public static final String AT = "replayat";
    /** CloudEvents extension attribute: the stage id. */
    public static final String FROM = "replayfrom";
    /** Kafka binary mode prefixes every CloudEvents attribute with this. */
    public static final String HEADER_PREFIX = "ce_";
}
