package dev.conveyor.promoter.messaging;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

import dev.conveyor.events.messaging.EventMessages;
import dev.conveyor.events.v1.ChartPublished;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.StageFailed;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.promoter.service.PromotionService;
import dev.conveyor.stage.StageRunner;
import io.smallrye.reactive.messaging.annotations.Blocking;

/**
 * The Kafka edge: one {@code ManifestsValidated} of a CD run in; one {@code ChartPublished} and one
 * {@code ReleasePromoted} per target out, or one {@code StageFailed}. CI runs are acknowledged with nothing emitted.
 * The input is acknowledged only after every output is acknowledged by the broker, so a crash in between redelivers it,
 * and the rerun publishes and commits nothing new. Unreadable records are dead-lettered with their reason.
 */
@ApplicationScoped
public class ManifestsValidatedConsumer {

    @Inject
    PromotionService promotions;

    @Inject
    StageRunner runner;

    @Inject
    @Channel(Topics.CHART_PUBLISHED)
    Emitter<ChartPublished> published;

    @Inject
    @Channel(Topics.RELEASE_PROMOTED)
    Emitter<ReleasePromoted> promoted;

    @Inject
    @Channel(Topics.STAGE_FAILED)
    Emitter<StageFailed> failed;

    @Incoming(Topics.MANIFESTS_VALIDATED)
    @Blocking(ordered = true)
    public CompletionStage<Void> consume(Message<ManifestsValidated> message) {
        ManifestsValidated validated = message.getPayload();
        if (validated == null) {
            return message.nack(new IllegalArgumentException(EventMessages.deserializationFailure(message)));
        }
        if (validated.run().flow() != Flow.CD) {
            return message.ack();
        }
        String causationId = EventMessages.cloudEventId(message).orElse(null);
        List<ConveyorEvent> out = runner.run(validated, causationId, attempt -> promotions.promote(validated,
                causationId));
        return EventMessages.ackWhenSent(message, out.stream().map(this::send).toList());
    }

    private CompletableFuture<Void> send(ConveyorEvent event) {
        CompletableFuture<Void> acked = new CompletableFuture<>();
        if (event instanceof ChartPublished chart) {
            published.send(EventMessages.of(chart, Stage.PROMOTER, acked));
        } else if (event instanceof ReleasePromoted release) {
            promoted.send(EventMessages.of(release, Stage.PROMOTER, acked));
        } else {
            failed.send(EventMessages.of((StageFailed) event, Stage.PROMOTER, acked));
        }
        return acked;
    }

}
