package dev.conveyor.gateway.messaging;

import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

import dev.conveyor.gateway.domain.RecordedEvent;
import dev.conveyor.gateway.service.RunReadModel;

/**
 * What one gateway replica does with what it reads: folds each event into the read model, merges each run snapshot of
 * the history topic, stores where each poll ended together with what it folded (one transaction), and writes the
 * snapshots of changed runs to the history topic, a batch at a time, each acknowledged before the runs are noted as
 * written (on failure they stay pending and are written later, also after a restart).
 */
public final class RunHistoryFeed implements EventLogReader.Sink, AutoCloseable {

    private static final Logger LOG = Logger.getLogger(RunHistoryFeed.class);

    /**
     * How the feed runs.
     *
     * @param bootstrapServers the brokers
     * @param kafka further client properties (security settings)
     * @param pollTimeout one poll of the log
     * @param topicRefresh how often missing topics are looked for
     * @param historyTopic the compacted topic of run snapshots
     * @param publishBatch snapshots written per batch
     * @param publishInterval how often changed runs' snapshots are written
     * @param publishTimeout how long a batch may take to be acknowledged
     */
    public record Settings(String bootstrapServers, Map<String, Object> kafka, Duration pollTimeout,
            Duration topicRefresh, String historyTopic, int publishBatch, Duration publishInterval,
            Duration publishTimeout) {
    }

    private final RunReadModel readModel;
    private final Settings settings;
    private final Consumer<RecordedEvent> onEvent;
    private final RunHistoryTopic history;
    private final BooleanSupplier historyTopicSettled;
    private EventLogReader reader;
    private long nextPublish;

    /**
     * @param onEvent told of every event read from an event topic (metrics), before it is folded
     */
    public RunHistoryFeed(RunReadModel readModel, Settings settings, Consumer<RecordedEvent> onEvent) {
        this(readModel, settings, onEvent, () -> true);
    }

    /**
     * @param onEvent told of every event read from an event topic (metrics), before it is folded
     * @param historyTopicSettled whether the history topic has been asked for ({@link RunHistoryTopic#ensure}
     *        returned): until then snapshots are not written (they stay pending), while the log is read as usual
     */
    public RunHistoryFeed(RunReadModel readModel, Settings settings, Consumer<RecordedEvent> onEvent,
            BooleanSupplier historyTopicSettled) {
        this.readModel = readModel;
        this.settings = settings;
        this.onEvent = onEvent;
        this.historyTopicSettled = historyTopicSettled;
        this.history = new RunHistoryTopic(settings.bootstrapServers(), settings.kafka(), settings.historyTopic(),
                settings.publishTimeout());
    }

    /** Starts reading: each partition from where the read model's store says it stopped, the others from the start. */
    public RunHistoryFeed start() {
        Map<TopicPartition, Long> resume = readModel.positions();
        LOG.infof("run history: %d partitions resumed from the store, any other read from its beginning",
                resume.size());
        reader = new EventLogReader(settings.bootstrapServers(), settings.kafka(), settings.pollTimeout(),
                settings.topicRefresh(), this, readModel::markCaughtUp, settings.historyTopic(), resume).start();
        return this;
    }

    /** The reader, for its counts. */
    public EventLogReader reader() {
        return reader;
    }

    @Override
    public void accept(RecordedEvent recorded, boolean live) {
        onEvent.accept(recorded);
        readModel.apply(recorded, live);
    }

    @Override
    public void snapshot(String runId, byte[] snapshot, String writer) {
        try {
            readModel.merge(runId, snapshot, writer);
        } catch (RuntimeException e) {
            LOG.warnf("run %s: skipping an unreadable snapshot: %s", runId, e.getMessage());
        }
    }

    @Override
    public void polled(Map<TopicPartition, Long> positions) {
        readModel.commit(positions);
        long now = System.nanoTime();
        // While catching up, runs change many times: their snapshots wait (durably) and are written once, after.
        // Nor before the history topic was asked for: a write would create it with the broker's defaults.
        if (!readModel.caughtUp() || now < nextPublish || !historyTopicSettled.getAsBoolean()) {
            return;
        }
        try {
            int written = readModel.publishSnapshots(settings.publishBatch(),
                    snapshots -> history.publish(snapshots, readModel.writerId()));
            if (written < settings.publishBatch()) {
                nextPublish = now + settings.publishInterval().toNanos();
            }
        } catch (RuntimeException e) {
            LOG.warnf("run snapshots not written to %s, trying again later: %s", settings.historyTopic(),
                    e.getMessage());
            nextPublish = now + settings.publishInterval().toNanos();
        }
    }

    @Override
    public void close() {
        if (reader != null) {
            reader.close();
        }
        history.close();
    }
}
