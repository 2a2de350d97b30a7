package dev.conveyor.gateway.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import dev.conveyor.gateway.client.RunStore;
import dev.conveyor.gateway.messaging.EventLogReader;
import dev.conveyor.gateway.messaging.RunHistoryFeed;
import dev.conveyor.gateway.messaging.RunHistoryTopic;
import dev.conveyor.gateway.service.RunReadModel;
import dev.conveyor.testkit.kafka.KafkaBroker;

/** The history feed alone, in this JVM, on a file store: first start and restart. Arguments: runs. */
public final class HistoryFeedProbe {

    public static void main(String[] args) throws Exception {
        int runs = Integer.parseInt(args[0]);
        Path dir = Files.createTempDirectory("probe");
        try (KafkaBroker broker = KafkaBroker.start()) {
            broker.createTopics(3, EventLogReader.topics().toArray(String[]::new));
            RunHistoryTopic.ensure(broker.bootstrapServers(), Map.of(), "conveyor.gateway.runs", 3);
            RunHistoryBench.write(broker.bootstrapServers(), runs);
            for (int i = 0; i < 2; i++) {
                long t = System.nanoTime();
                RunReadModel model = new RunReadModel(RunStore.open(dir), null, 2000);
                RunHistoryFeed feed = new RunHistoryFeed(model, new RunHistoryFeed.Settings(broker.bootstrapServers(),
                        Map.of(), Duration.ofMillis(500), Duration.ofSeconds(10), "conveyor.gateway.runs", 500,
                        Duration.ofSeconds(2), Duration.ofSeconds(10)), e -> {
                        }).start();
                while (!model.caughtUp()) {
                    Thread.sleep(50);
                }
                System.out.printf("start %d: ready %.1f s, %d records, %d events%n", i, (System.nanoTime() - t) / 1e9,
                        feed.reader().recordsRead(), feed.reader().eventRecordsRead());
                while (model.pendingSnapshotCount() > 0) {
                    Thread.sleep(100);
                }
                System.out.printf("start %d: snapshots written %.1f s%n", i, (System.nanoTime() - t) / 1e9);
                feed.close();
                model.close();
            }
        }
    }
}
