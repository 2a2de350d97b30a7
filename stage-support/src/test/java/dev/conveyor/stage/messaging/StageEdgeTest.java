package dev.conveyor.stage.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.junit.jupiter.api.Test;

import dev.conveyor.events.v1.Artifact;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.StageFailed;
import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.StageMetrics;
import dev.conveyor.stage.StageRunner;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;

/**
 * The edge's acknowledgement rules, with an emitter that stands for the broker: the test decides when (and whether) it
 * acknowledges each record. The wire itself is covered once per stage by its *MessagingIT against a real broker.
 */
class StageEdgeTest {

    enum Reason {
        BAD
    }

    private static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final StageRunner runner = new StageRunner(Stage.VERSIONER, Backoff.none(),
            new StageMetrics(registry, Stage.VERSIONER));
    private final Broker broker = new Broker();
    private final StageEdge edge = new StageEdge(runner, broker, new Backoff(Integer.MAX_VALUE, Duration.ofMillis(1),
            Duration.ofMillis(5)));
    private final BuildSucceeded build = new BuildSucceeded(
            PipelineRun.start("app", "file:///r.git", "abc", "main", null, Flow.CD), NOW, null, "http://jenkins/1",
            new Artifact("file:///a.jar", "0".repeat(64), null, null), null, null);

    private final AtomicReference<String> outcome = new AtomicReference<>("pending");
    private final AtomicReference<Throwable> nackReason = new AtomicReference<>();

    private <T> Message<T> input(T payload) {
        return Message.of(payload, () -> {
            outcome.set("acked");
            return CompletableFuture.completedFuture(null);
        }, failure -> {
            outcome.set("nacked");
            nackReason.set(failure);
            return CompletableFuture.completedFuture(null);
        });
    }

    @Test
    void anUnreadableRecordIsNackedWithTheReasonAndTheWorkNeverRuns() {
        edge.handle(input((BuildSucceeded) null), (b, in) -> {
            throw new AssertionError("the work ran on an unreadable record");
        });

        assertThat(outcome).hasValue("nacked");
        assertThat(nackReason.get()).isInstanceOf(IllegalArgumentException.class).hasMessage("unreadable record");
        assertThat(broker.sent).isEmpty();
    }

    @Test
    void theInputIsAckedOnlyAfterEveryOutputIsAckedAndEachOutputNamesItsTopic() {
        CompletionStage<Void> done = edge.handle(input(build), (b, in) -> List.of(b, b));

        assertThat(broker.sent).hasSize(2);
        assertThat(broker.sent.get(0).getMetadata(OutgoingKafkaRecordMetadata.class).orElseThrow().getTopic())
                .isEqualTo(build.eventType().topic());
        broker.sent.get(0).ack();
        assertThat(outcome).hasValue("pending");
        broker.sent.get(1).ack();
        assertThat(outcome).hasValue("acked");
        assertThat(done.toCompletableFuture()).isCompleted();
    }

    @Test
    void aFailureOfTheWorkIsPublishedAsStageFailedAndThenTheInputIsAcked() {
        edge.handle(input(build), (b, in) -> {
            throw StageException.terminal(Reason.BAD, "field 'x' is bad");
        });

        assertThat(broker.sent).singleElement().satisfies(m -> assertThat(m.getPayload())
                .isInstanceOfSatisfying(StageFailed.class, f -> assertThat(f.reason()).isEqualTo("BAD")));
        broker.sent.get(0).ack();
        assertThat(outcome).hasValue("acked");
    }

    @Test
    void anOutputTheBrokerCouldNotTakeYetIsSentAgainAndTheInputWaitsForIt() {
        AtomicReference<CompletionStage<Void>> published = new AtomicReference<>();
        edge.handle(input(build), (b, in) -> {
            published.set(in.published());
            return List.of(b);
        });

        broker.sent.get(0).nack(new TimeoutException("Expiring 1 record(s): 300000 ms has passed"));
        await().atMost(Duration.ofSeconds(10)).until(() -> broker.sent.size() == 2);
        assertThat(outcome).hasValue("pending");
        assertThat(published.get().toCompletableFuture()).isNotDone();
        broker.sent.get(1).ack();

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(outcome).hasValue("acked"));
        assertThat(published.get().toCompletableFuture()).isCompleted();
    }

    @Test
    void anOutputTheBrokerRefusesForGoodNacksTheInput() {
        edge.handle(input(build), (b, in) -> List.of(b));

        broker.sent.get(0).nack(new RecordTooLargeException("too large"));

        assertThat(outcome).hasValue("nacked");
        assertThat(nackReason.get()).hasRootCauseInstanceOf(RecordTooLargeException.class);
        assertThat(broker.sent).hasSize(1);
    }

    /** Records what is sent; the test acknowledges or refuses each message as the broker would. */
    static final class Broker implements Emitter<ConveyorEvent> {
        final List<Message<? extends ConveyorEvent>> sent = new CopyOnWriteArrayList<>();

        @Override
        public CompletionStage<Void> send(ConveyorEvent payload) {
            throw new UnsupportedOperationException("the edge sends messages");
        }

        @Override
        public <M extends Message<? extends ConveyorEvent>> void send(M msg) {
            sent.add(msg);
        }

        @Override
        public void complete() {
        }

        @Override
        public void error(Exception e) {
        }

        @Override
        public boolean isCancelled() {
            return false;
        }

        @Override
        public boolean hasRequests() {
            return true;
        }
    }
}
