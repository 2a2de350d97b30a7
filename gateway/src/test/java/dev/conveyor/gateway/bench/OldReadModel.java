package dev.conveyor.gateway.bench;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.conveyor.gateway.domain.RecordedEvent;
import dev.conveyor.gateway.domain.RunTimeline;
import dev.conveyor.gateway.messaging.EventLogReader;

/**
 * The gateway's read model as it was before run history: every topic read from the beginning at each start, every
 * run's timeline (with all its events) in one map in memory. Run in its own JVM by {@link RunHistoryBench} with the
 * same {@code -Xmx} as the gateway; prints {@code ready <ms> heap <bytes> runs <n>}, or dies of OutOfMemoryError.
 *
 * <p>
 * Arguments: bootstrap servers.
 */
public final class OldReadModel {

    public static void main(String[] args) throws Exception {
        Map<String, RunTimeline> runs = new HashMap<>();
        CountDownLatch caughtUp = new CountDownLatch(1);
        long start = System.nanoTime();
        try (EventLogReader reader = new EventLogReader(args[0], Map.of(), Duration.ofMillis(500),
                Duration.ofSeconds(10), (RecordedEvent recorded, boolean live) -> {
                    synchronized (runs) {
                        runs.computeIfAbsent(recorded.event().run().runId(), RunTimeline::new).apply(recorded);
                    }
                }, caughtUp::countDown).start()) {
            if (!caughtUp.await(30, TimeUnit.MINUTES)) {
                System.out.println("failed: not caught up in 30 min");
                System.exit(2);
            }
            long ready = Duration.ofNanos(System.nanoTime() - start).toMillis();
            System.gc();
            System.gc();
            long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            synchronized (runs) {
                System.out.println("ready " + ready + " heap " + heap + " runs " + runs.size());
            }
        }
        System.exit(0);
    }
}
