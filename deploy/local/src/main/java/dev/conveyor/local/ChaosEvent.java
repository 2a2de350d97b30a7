package dev.conveyor.local;

import java.time.Instant;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.ReleaseDegraded;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.events.v1.RepoSynced;

/**
 * One record read from an event topic by the chaos suite: where and when it was written, its CloudEvents id and
 * source, and the event.
 *
 * @param topic the topic
 * @param partition the partition
 * @param offset the offset
 * @param timestamp the record's timestamp (the producer's clock: the same machine)
 * @param ceId the {@code ce_id} header
 * @param source the {@code ce_source} header, e.g. {@code /conveyor/versioner}
 * @param event the event
 */
public record ChaosEvent(String topic, int partition, long offset, Instant timestamp, String ceId, String source,
        ConveyorEvent event) {

    /** Whether the event belongs to the run: its own run id, or a {@code RepoSynced} listing it. */
    public boolean namesRun(String runId) {
        return event.run().runId().equals(runId) || event instanceof RepoSynced s && s.runIds().contains(runId);
    }

    /** Whether the stage with this id emitted it ({@code ce_source} {@code /conveyor/<stage>}). */
    public boolean from(String stage) {
        return source != null && source.equals("/conveyor/" + stage);
    }

    /** Whether this is the release's health for the run: {@code ReleaseHealthy} or {@code ReleaseDegraded}. */
    public boolean isHealth() {
        return event instanceof ReleaseHealthy || event instanceof ReleaseDegraded;
    }

    /** The event's identity: type, run, attempt and discriminator; two records of it must carry one id. */
    public String identity() {
        return event.eventType().eventName() + " run " + event.run().runId() + " attempt " + event.run().attempt()
                + (event.discriminator().isEmpty() ? "" : " " + event.discriminator());
    }

    /** The simple name of the event's type, e.g. {@code VersionResolved}. */
    public String name() {
        return event.eventType().eventName();
    }
}
