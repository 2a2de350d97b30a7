package dev.conveyor.events.cdevents;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.regex.Pattern;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import dev.conveyor.events.kafka.ConveyorEventDeserializer;
import dev.conveyor.events.v1.CloudEventAttributes;
import dev.conveyor.events.v1.ConveyorEvent;

/**
 * Mirrors every Conveyor event as CDEvents ({@link CdEvents}): reads every Conveyor topic in its own consumer group,
 * writes the CDEvents to one Kafka topic as CloudEvents in Kafka binary mode ({@code ce_*} headers, the CDEvent JSON
 * as value, key = app id) and, when a sink URL is set, POSTs each one in the CloudEvents HTTP binary mode
 * ({@code ce-*} headers, the CDEvent JSON as body).
 *
 * <p>
 * Offsets are committed only after every CDEvent of the polled batch is acknowledged by the broker, so a crash
 * re-mirrors rather than loses; the CDEvent ids are a function of the Conveyor event ids, so a re-mirrored event has
 * the same id and consumers recognise it. The HTTP sink is best effort: a few attempts with backoff, then the failure
 * is reported to the {@link Listener} and the mirror moves on (the topic stays the complete record). A record that
 * cannot be read is skipped: the stage that consumes its topic dead-letters it.
 */
public final class CdEventsMirror implements AutoCloseable {

    /** Conveyor's event topics: {@code conveyor.<subject>.<predicate>}, not their dead-letter topics. */
    public static final Pattern CONVEYOR_TOPICS = Pattern.compile("conveyor\\.[a-z]+\\.[a-z]+");

    private final Settings settings;
    private final Listener listener;
    private final ConveyorEventDeserializer deserializer = new ConveyorEventDeserializer();
    private final HttpClient http;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile KafkaConsumer<String, byte[]> consumer;

    /**
     * How the mirror connects and where it writes.
     *
     * @param bootstrapServers the brokers
     * @param kafka further client properties (security settings), for both consumer and producer
     * @param topic the CDEvents topic; must not itself look like a Conveyor topic
     * @param groupId the mirror's consumer group
     * @param httpSink where to POST each CDEvent, if anywhere
     * @param httpTimeout one POST's timeout
     * @param httpAttempts POSTs per CDEvent before giving up on it
     * @param pollTimeout how long one poll waits
     * @param topicRefresh how soon new Conveyor topics are found
     */
    public record Settings(String bootstrapServers, Map<String, Object> kafka, String topic, String groupId,
            Optional<URI> httpSink, Duration httpTimeout, int httpAttempts, Duration pollTimeout,
            Duration topicRefresh) {

        public Settings {
            if (topic == null || topic.isBlank()) {
                throw new IllegalArgumentException("cdevents topic: must not be empty");
            }
            if (CONVEYOR_TOPICS.matcher(topic).matches()) {
                throw new IllegalArgumentException(
                        "cdevents topic: '" + topic + "' looks like a Conveyor topic, the mirror would read its own");
            }
            if (httpAttempts < 1) {
                throw new IllegalArgumentException("cdevents http attempts: must be at least 1");
            }
            httpSink.ifPresent(uri -> {
                if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
                    throw new IllegalArgumentException("cdevents sink url: must be http or https");
                }
            });
        }
    }

    /** What the mirror did, for metrics and logs. */
    public interface Listener {
        /** A CDEvent was written to the topic (and, with a sink, delivered or given up on). */
        void mirrored(CdEvent event);

        /** The HTTP sink did not take a CDEvent after every attempt; {@code reason} names status or error. */
        void sinkFailed(CdEvent event, String reason);

        /** A Conveyor record could not be read and was skipped. */
        void skipped(String topic, String reason);
    }

    public CdEventsMirror(Settings settings, Listener listener) {
        this.settings = settings;
        this.listener = listener;
        this.http = HttpClient.newBuilder().connectTimeout(settings.httpTimeout())
                .followRedirects(HttpClient.Redirect.NEVER).build();
        this.thread = new Thread(this::run, "conveyor-cdevents-mirror");
        this.thread.setDaemon(true);
    }

    /** Starts mirroring on its own thread. */
    public CdEventsMirror start() {
        thread.start();
        return this;
    }

    private void run() {
        Map<String, Object> consumerProps = new HashMap<>(settings.kafka());
        consumerProps.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        consumerProps.put(ConsumerConfig.GROUP_ID_CONFIG, settings.groupId());
        consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumerProps.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, (int) settings.topicRefresh().toMillis());
        consumerProps.put(ConsumerConfig.CLIENT_ID_CONFIG, "conveyor-cdevents-mirror");
        Map<String, Object> producerProps = new HashMap<>(settings.kafka());
        producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
        producerProps.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        producerProps.put(ProducerConfig.CLIENT_ID_CONFIG, "conveyor-cdevents-mirror");
        try (KafkaConsumer<String, byte[]> kafkaConsumer = new KafkaConsumer<>(consumerProps, new StringDeserializer(),
                new ByteArrayDeserializer());
                KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerProps, new StringSerializer(),
                        new ByteArraySerializer())) {
            consumer = kafkaConsumer;
            kafkaConsumer.subscribe(CONVEYOR_TOPICS);
            while (running) {
                ConsumerRecords<String, byte[]> records = kafkaConsumer.poll(settings.pollTimeout());
                if (records.isEmpty()) {
                    continue;
                }
                List<CdEvent> written = publish(records, producer);
                for (CdEvent event : written) {
                    settings.httpSink().ifPresent(sink -> deliver(sink, event));
                    listener.mirrored(event);
                }
                kafkaConsumer.commitSync();
            }
        } catch (WakeupException stopping) {
            // close() woke the consumer up
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            // the broker refused a CDEvent: stop without committing, so a restarted mirror retries the batch
            listener.skipped(settings.topic(), "the broker did not take a CDEvent: " + e.getCause());
        }
    }

    /** Writes the batch's CDEvents and waits for the broker to acknowledge all of them. */
    private List<CdEvent> publish(ConsumerRecords<String, byte[]> records, KafkaProducer<String, byte[]> producer)
            throws InterruptedException, ExecutionException {
        List<CdEvent> written = new ArrayList<>();
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> record : records) {
            List<CdEvent> mirrored = mirror(record);
            for (CdEvent event : mirrored) {
                acks.add(producer.send(new ProducerRecord<>(settings.topic(), null, record.key(), event.json(),
                        kafkaHeaders(event))));
                written.add(event);
            }
        }
        for (Future<RecordMetadata> ack : acks) {
            ack.get();
        }
        return written;
    }

    private List<CdEvent> mirror(ConsumerRecord<String, byte[]> record) {
        String id = header(record.headers(), "ce_id");
        String source = header(record.headers(), "ce_source");
        ConveyorEvent event;
        try {
            event = deserializer.deserialize(record.topic(), record.headers(), record.value());
        } catch (RuntimeException e) {
            event = null;
        }
        if (event == null) {
            listener.skipped(record.topic(), "unreadable record at offset " + record.offset());
            return List.of();
        }
        return CdEvents.of(event, id != null ? id : CloudEventAttributes.idOf(event),
                source != null ? source : "/conveyor");
    }

    /** CloudEvents Kafka binary mode: the context attributes as {@code ce_*} headers. */
    static Headers kafkaHeaders(CdEvent event) {
        RecordHeaders headers = new RecordHeaders();
        cloudEventAttributes(event).forEach(
                (name, value) -> headers.add("ce_" + name, value.getBytes(StandardCharsets.UTF_8)));
        headers.add("content-type", CloudEventAttributes.DATA_CONTENT_TYPE.getBytes(StandardCharsets.UTF_8));
        return headers;
    }

    /** The CloudEvents attributes of a CDEvent, as the CDEvents CloudEvents binding maps its context. */
    static Map<String, String> cloudEventAttributes(CdEvent event) {
        Map<String, String> attributes = new java.util.LinkedHashMap<>();
        attributes.put("specversion", CloudEventAttributes.SPEC_VERSION);
        attributes.put("id", event.id());
        attributes.put("source", event.source());
        attributes.put("type", event.type());
        attributes.put("subject", event.subjectId());
        attributes.put("time", event.timestamp().toString());
        return attributes;
    }

    /** CloudEvents HTTP binary mode, a few attempts with backoff. */
    private void deliver(URI sink, CdEvent event) {
        HttpRequest.Builder request = HttpRequest.newBuilder(sink).timeout(settings.httpTimeout())
                .header("Content-Type", CloudEventAttributes.DATA_CONTENT_TYPE)
                .POST(HttpRequest.BodyPublishers.ofByteArray(event.json()));
        cloudEventAttributes(event).forEach((name, value) -> request.header("ce-" + name, value));
        String reason = "";
        for (int attempt = 1; attempt <= settings.httpAttempts() && running; attempt++) {
            try {
                HttpResponse<Void> response = http.send(request.build(), HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() / 100 == 2) {
                    return;
                }
                reason = "HTTP " + response.statusCode();
            } catch (IOException e) {
                reason = e.getClass().getSimpleName();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (attempt < settings.httpAttempts()) {
                try {
                    Thread.sleep(100L << Math.min(attempt, 6));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
        listener.sinkFailed(event, reason);
    }

    private static String header(Headers headers, String name) {
        Header header = headers.lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    /** Stops mirroring; what was polled but not committed is mirrored again by the next mirror of the group. */
    @Override
    public void close() {
        running = false;
        KafkaConsumer<String, byte[]> current = consumer;
        if (current != null) {
            current.wakeup();
        }
        try {
            thread.join(Duration.ofSeconds(30).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
