package dev.conveyor.promoter.messaging;

import java.util.concurrent.CompletionStage;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.promoter.service.PromotionService;
import dev.conveyor.stage.messaging.StageEdge;
import io.smallrye.reactive.messaging.annotations.Blocking;

/**
 * The Kafka edge: one {@code ManifestsValidated} of a CD run in; one {@code ChartPublished} and one
 * {@code ReleasePromoted} per target out, or one {@code StageFailed}, through {@link StageEdge} (input acknowledged
 * after every output; unreadable records dead-lettered with their reason). CI runs are acknowledged with nothing
 * emitted. A crash in between redelivers the input, and the rerun publishes and commits nothing new.
 */
@ApplicationScoped
public class ManifestsValidatedConsumer {

    @Inject
    PromotionService promotions;

    @Inject
    StageEdge edge;

    @Incoming(Topics.MANIFESTS_VALIDATED)
    @Blocking(ordered = true)
    public CompletionStage<Void> consume(Message<ManifestsValidated> message) {
        ManifestsValidated validated = message.getPayload();
        if (validated != null && validated.run().flow() != Flow.CD) {
            return message.ack();
        }
        return edge.handle(message, (manifests, in) -> promotions.promote(manifests, in.causationId()));
    }
}
