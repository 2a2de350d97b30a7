package dev.conveyor.gateway.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.conveyor.events.kafka.ConveyorEventSerializer;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.gateway.domain.RecordedEvent;
import dev.conveyor.gateway.support.RunEvents;
import dev.conveyor.testkit.Ports;
import dev.conveyor.testkit.kafka.KafkaBroker;

/**
 * When the read model reports caught up (the gateway's readiness): as soon as every partition is read up to where it
 * ended at start, without waiting a poll for records that are not coming, and never before the broker answered.
 */
class EventLogReaderIT {

    /** Far longer than any start may take: a reader that waits a poll before it is caught up waits this long. */
    static final Duration LONG_POLL = Duration.ofSeconds(30);

    KafkaBroker broker;
    EventLogReader reader;

    @AfterEach
    void close() {
        if (reader != null) {
            reader.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void aLogReadToItsEndIsCaughtUpWithoutWaitingForAPoll() throws Exception {
        broker = KafkaBroker.start();
        broker.createTopics(2, EventLogReader.topics().toArray(String[]::new));
        List<? extends ConveyorEvent> run = RunEvents.cd("reader", 1, Instant.now()).all();
        publish(run);

        // a first start reads the whole log, then is caught up
        List<RecordedEvent> read = new CopyOnWriteArrayList<>();
        AtomicBoolean caughtUp = new AtomicBoolean();
        AtomicInteger readWhenCaughtUp = new AtomicInteger(-1);
        AtomicReference<Map<TopicPartition, Long>> positions = new AtomicReference<>();
        reader = new EventLogReader(broker.bootstrapServers(), Map.of(), LONG_POLL, Duration.ofSeconds(10),
                new EventLogReader.Sink() {
                    @Override
                    public void accept(RecordedEvent recorded, boolean live) {
                        read.add(recorded);
                    }

                    @Override
                    public void polled(Map<TopicPartition, Long> p) {
                        positions.set(Map.copyOf(p));
                    }
                }, () -> {
                    readWhenCaughtUp.set(read.size());
                    caughtUp.set(true);
                }).start();
        await().atMost(Duration.ofSeconds(20)).untilTrue(caughtUp);
        assertThat(readWhenCaughtUp.get()).as("every event at start read before caught up").isEqualTo(run.size());
        reader.close();

        // a restart with nothing new: caught up at once, not after a poll of LONG_POLL that finds nothing
        AtomicBoolean again = new AtomicBoolean();
        long begin = System.nanoTime();
        reader = new EventLogReader(broker.bootstrapServers(), Map.of(), LONG_POLL, Duration.ofSeconds(10),
                (recorded, live) -> {
                }, () -> again.set(true), null, positions.get()).start();
        await().atMost(Duration.ofSeconds(15)).untilTrue(again);
        assertThat(Duration.ofNanos(System.nanoTime() - begin)).isLessThan(LONG_POLL.dividedBy(2));
    }

    @Test
    void emptyTopicsAreCaughtUpWithoutWaitingForAPoll() {
        broker = KafkaBroker.start();
        broker.createTopics(1, EventLogReader.topics().toArray(String[]::new));
        AtomicBoolean caughtUp = new AtomicBoolean();
        reader = new EventLogReader(broker.bootstrapServers(), Map.of(), LONG_POLL, Duration.ofSeconds(10),
                (recorded, live) -> {
                }, () -> caughtUp.set(true)).start();
        await().atMost(Duration.ofSeconds(15)).untilTrue(caughtUp);
    }

    @Test
    void anUnreachableBrokerIsNotAnEmptyLog() {
        AtomicBoolean caughtUp = new AtomicBoolean();
        reader = new EventLogReader("127.0.0.1:" + Ports.free(), Map.of(), Duration.ofMillis(100),
                Duration.ofMillis(200), (recorded, live) -> {
                }, () -> caughtUp.set(true)).start();
        // several metadata timeouts (5 s each): a reader that took a failed listing for "no topics" is caught up
        await().during(Duration.ofSeconds(12)).atMost(Duration.ofSeconds(15)).untilFalse(caughtUp);
    }

    void publish(List<? extends ConveyorEvent> events) throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        try (KafkaProducer<String, ConveyorEvent> producer = new KafkaProducer<>(props, new StringSerializer(),
                new ConveyorEventSerializer())) {
            for (ConveyorEvent e : events) {
                producer.send(new ProducerRecord<>(e.eventType().topic(), e.run().app(), e)).get(10,
                        TimeUnit.SECONDS);
            }
        }
    }
}
