package dev.conveyor.notifier.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;

import dev.conveyor.notifier.config.NotifierBeans;
import dev.conveyor.notifier.domain.AppNotifySettings;
import dev.conveyor.notifier.service.NotifierService;
import dev.conveyor.notifier.testing.Harness;
import dev.conveyor.notifier.testing.ReplicaMain;
import dev.conveyor.testkit.Ports;
import dev.conveyor.testkit.kafka.KafkaBroker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * How the event consumer starts: without waiting for the broker, and ready only once its state topic is prepared, so
 * a notifier that cannot reach its state is never ready.
 */
class EventConsumerStartIT {

    @TempDir
    Path dir;

    WireMockServer wiremock;
    KafkaBroker broker;
    NotifierService service;
    EventConsumer consumer;

    @AfterEach
    void close() {
        if (consumer != null) {
            consumer.close();
        }
        Harness.closeQuietly(service);
        if (broker != null) {
            broker.close();
        }
        if (wiremock != null) {
            wiremock.stop();
        }
    }

    NotifierService service() {
        wiremock = new WireMockServer(WireMockConfiguration.options().dynamicPort());
        wiremock.start();
        return NotifierBeans.service(Harness.config(Harness.settings(wiremock, dir, Map.of())), Harness.engine(),
                new SimpleMeterRegistry(), Clock.systemUTC(), (app, runId, url, commit) -> AppNotifySettings.none());
    }

    @Test
    void anUnreachableBrokerDoesNotHoldUpTheStartAndIsNeverReady() {
        service = service();
        long begin = System.nanoTime();
        consumer = EventConsumer.start(service, ReplicaMain.settings("127.0.0.1:" + Ports.free(),
                "conveyor-notifier-start", "conveyor.notifier.state.start"), Clock.systemUTC());
        assertThat(Duration.ofNanos(System.nanoTime() - begin)).isLessThan(Duration.ofSeconds(5));

        await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(8))
                .until(() -> !consumer.ready() && consumer.partitions().isEmpty());
        // stopping does not wait for the state topic's 30 s either
        begin = System.nanoTime();
        consumer.close();
        assertThat(Duration.ofNanos(System.nanoTime() - begin)).isLessThan(Duration.ofSeconds(10));
        assertThat(consumer.ready()).isFalse();
        consumer = null;
    }

    @Test
    void readyOnceTheStateTopicIsPrepared() throws Exception {
        broker = KafkaBroker.start();
        broker.createTopics(3, EventConsumer.TOPICS.toArray(String[]::new));
        service = service();
        String stateTopic = "conveyor.notifier.state.ready";
        consumer = EventConsumer.start(service, ReplicaMain.settings(broker.bootstrapServers(),
                "conveyor-notifier-ready", stateTopic), Clock.systemUTC());
        await().atMost(Duration.ofSeconds(60)).until(consumer::ready);
        try (Admin admin = broker.admin()) {
            TopicDescription state = admin.describeTopics(List.of(stateTopic)).allTopicNames().get()
                    .get(stateTopic);
            assertThat(state.partitions()).hasSize(3);
        }
        // and its partitions' state is read before any record of theirs is handled
        await().atMost(Duration.ofSeconds(60)).until(() -> consumer.partitions().size() == 3);
    }
}
