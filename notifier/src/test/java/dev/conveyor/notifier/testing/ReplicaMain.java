package dev.conveyor.notifier.testing;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

import dev.conveyor.notifier.config.NotifierBeans;
import dev.conveyor.notifier.domain.AppNotifySettings;
import dev.conveyor.notifier.messaging.EventConsumer;
import dev.conveyor.notifier.service.NotifierService;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * One notifier replica as its own process, wired as {@link Harness} wires it (providers at the stubs), consuming with
 * the real {@link EventConsumer}: a test can kill it with {@code SIGKILL}. Prints {@value #READY} once it has joined its
 * group. Arguments: bootstrap servers, stubs base URL, data directory, group id, state topic.
 */
public final class ReplicaMain {

    public static final String READY = "replica ready";

    private ReplicaMain() {
    }

    public static void main(String[] args) throws Exception {
        NotifierService service = NotifierBeans.service(Harness.config(Harness.settings(args[1], Path.of(args[2]),
                Map.of())), Harness.engine(), new SimpleMeterRegistry(), Clock.systemUTC(),
                (app, runId, url, commit) -> AppNotifySettings.none());
        EventConsumer consumer = EventConsumer.start(service, settings(args[0], args[3], args[4]), Clock.systemUTC());
        while (!consumer.polling() && consumer.failure().isEmpty()) {
            Thread.sleep(50);
        }
        System.out.println(READY);
        System.out.flush();
        Thread.currentThread().join();
    }

    /** The consumer settings of a test replica: takeover after a 6 s session timeout (the broker's minimum). */
    public static EventConsumer.Settings settings(String bootstrap, String group, String stateTopic) {
        return new EventConsumer.Settings(bootstrap, group, stateTopic, Duration.ofDays(14), Duration.ofSeconds(60),
                java.util.Optional.empty(), Map.of("session.timeout.ms", 6000, "heartbeat.interval.ms", 1000));
    }
}
