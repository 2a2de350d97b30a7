package dev.conveyor.notifier.messaging;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.github.tomakehurst.wiremock.WireMockServer;

import dev.conveyor.events.kafka.ConveyorEventSerializer;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.notifier.config.NotifierBeans;
import dev.conveyor.notifier.domain.AppNotifySettings;
import dev.conveyor.notifier.domain.ProviderKind;
import dev.conveyor.notifier.service.NotifierService;
import dev.conveyor.notifier.service.StateStore;
import dev.conveyor.notifier.testing.Harness;
import dev.conveyor.notifier.testing.ReplicaMain;
import dev.conveyor.notifier.testing.Runs;
import dev.conveyor.testkit.kafka.KafkaBroker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * An upgrade: the notifier of the version before kept its state in a journal file; the new one reads that file into
 * the state topic at its first start and goes on with the runs it had begun — their Slack message is updated, not
 * posted again, and the events it had handled make no call when they are read again.
 */
class JournalMigrationIT {

    @TempDir
    Path dir;
    KafkaBroker broker;
    WireMockServer wiremock;
    NotifierService service;
    EventConsumer consumer;

    @AfterEach
    void stop() {
        if (consumer != null) {
            consumer.close();
        }
        Harness.closeQuietly(service);
        if (wiremock != null) {
            wiremock.stop();
        }
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void theJournalOfTheVersionBeforeIsReadOnceIntoTheStateTopicAndItsRunsGoOn() throws Exception {
        wiremock = new WireMockServer(options().dynamicPort());
        wiremock.start();
        wiremock.stubFor(post(urlEqualTo("/slack/api/chat.postMessage"))
                .willReturn(okJson("{\"ok\":true,\"channel\":\"C0DEPLOY\",\"ts\":\"1700000000.000100\"}")));
        wiremock.stubFor(post(urlEqualTo("/slack/api/chat.update"))
                .willReturn(okJson("{\"ok\":true,\"channel\":\"C0DEPLOY\",\"ts\":\"1700000000.000100\"}")));
        wiremock.stubFor(post(urlPathMatching("/jira/rest/api/3/issue/SHOP-[0-9]+/comment")).willReturn(aResponse()
                .withStatus(201).withHeader("Content-Type", "application/json").withBody("{\"id\":\"10042\"}")));
        Path data = dir.resolve("data");
        List<ConveyorEvent> run = Runs.delivery("cart", "https://github.com/acme/cart.git",
                "0123456789abcdef0123456789abcdef01234567");

        // the single process of the version before: half the run, state in its journal
        NotifierService before = Harness.start(Harness.settings(wiremock, data, Map.of()), new SimpleMeterRegistry());
        run.subList(0, 4).forEach(e -> before.accept(e, Runs.id(e)));
        await().atMost(Duration.ofSeconds(20)).until(() -> settled(before));
        before.close();
        Path journal = data.resolve(StateStore.FILE);
        assertThat(journal).exists();
        assertThat(Harness.calls(wiremock, "/slack")).containsExactly("POST /slack/api/chat.postMessage",
                "POST /slack/api/chat.update", "POST /slack/api/chat.update", "POST /slack/api/chat.update");

        broker = KafkaBroker.start();
        broker.createTopics(3, EventConsumer.TOPICS.toArray(String[]::new));
        service = NotifierBeans.service(Harness.config(Harness.settings(wiremock, data, Map.of())), Harness.engine(),
                new SimpleMeterRegistry(), Clock.systemUTC(), (app, runId, url, commit) -> AppNotifySettings.none());
        EventConsumer.Settings s = ReplicaMain.settings(broker.bootstrapServers(), "conveyor-notifier-migration",
                "conveyor.notifier.state.migration");
        consumer = EventConsumer.start(service, new EventConsumer.Settings(s.bootstrapServers(), s.groupId(),
                s.stateTopic(), s.retention(), s.restoreTimeout(), Optional.of(journal), s.clients()),
                Clock.systemUTC());
        // the journal is read into the state topic before the consumer is ready
        await().atMost(Duration.ofSeconds(60)).until(consumer::ready);
        assertThat(journal).doesNotExist();
        assertThat(journal.resolveSibling(StateStore.FILE + ".migrated")).exists();

        // the topics hold the whole run (the first half again, as a new group reads it from the beginning)
        Map<String, Object> c = new LinkedHashMap<>();
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        try (KafkaProducer<String, ConveyorEvent> producer = new KafkaProducer<>(c, new StringSerializer(),
                new ConveyorEventSerializer())) {
            ReplicasIT.send(producer, Map.of("cart", run), 0, run.size());
        }
        await().atMost(Duration.ofSeconds(60))
                .until(() -> run.stream().allMatch(e -> service.handled(Runs.id(e))) && settled(service));

        List<String> slack = Harness.calls(wiremock, "/slack");
        assertThat(slack).filteredOn(call -> call.endsWith("chat.postMessage")).hasSize(1);
        assertThat(slack).hasSize(8);
        assertThat(Harness.calls(wiremock, "/jira")).containsExactly("POST /jira/rest/api/3/issue/SHOP-7/comment",
                "POST /jira/rest/api/3/issue/SHOP-8/comment");
        String last = Harness.requests(wiremock).stream().filter(r -> r.getUrl().endsWith("chat.update"))
                .reduce((a, b) -> b).orElseThrow().getBodyAsString();
        assertThat(last).contains("Deployed to *production*", "\"ts\":\"1700000000.000100\"");
    }

    static boolean settled(NotifierService s) {
        return Arrays.stream(ProviderKind.values()).allMatch(p -> s.backlog(p) == 0);
    }
}
