package dev.conveyor.notifier.messaging;

import java.util.concurrent.CompletionStage;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

import dev.conveyor.events.messaging.EventMessages;
import dev.conveyor.events.v1.CloudEventAttributes;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Topics;
import dev.conveyor.notifier.service.NotifierService;
import io.smallrye.reactive.messaging.annotations.Blocking;

/**
 * The Kafka edge: every event topic in, nothing out. One channel per topic (not one channel over all eleven) so each
 * topic keeps its own dead-letter topic {@code <topic>.dlq.notifier}, as every consumer in Conveyor does. A record is
 * acknowledged once its state and calls are journalled; the calls themselves are made by the provider workers, so a
 * slow provider never holds up consumption. Unreadable records are dead-lettered with their reason.
 */
@ApplicationScoped
public class EventConsumer {

    private static final Logger LOG = Logger.getLogger(EventConsumer.class);

    @Inject
    NotifierService notifier;

    @Incoming(Topics.BUILD_SUCCEEDED)
    @Blocking(ordered = true)
    public CompletionStage<Void> buildSucceeded(Message<ConveyorEvent> message) {
        return handle(message);
    }

    @Incoming(Topics.BUILD_FAILED)
    @Blocking(ordered = true)
    public CompletionStage<Void> buildFailed(Message<ConveyorEvent> message) {
        return handle(message);
    }

    @Incoming(Topics.VERSION_RESOLVED)
    @Blocking(ordered = true)
    public CompletionStage<Void> versionResolved(Message<ConveyorEvent> message) {
        return handle(message);
    }

    @Incoming(Topics.IMAGE_PUSHED)
    @Blocking(ordered = true)
    public CompletionStage<Void> imagePushed(Message<ConveyorEvent> message) {
        return handle(message);
    }

    @Incoming(Topics.MANIFESTS_VALIDATED)
    @Blocking(ordered = true)
    public CompletionStage<Void> manifestsValidated(Message<ConveyorEvent> message) {
        return handle(message);
    }

    @Incoming(Topics.CHART_PUBLISHED)
    @Blocking(ordered = true)
    public CompletionStage<Void> chartPublished(Message<ConveyorEvent> message) {
        return handle(message);
    }

    @Incoming(Topics.RELEASE_PROMOTED)
    @Blocking(ordered = true)
    public CompletionStage<Void> releasePromoted(Message<ConveyorEvent> message) {
        return handle(message);
    }

    @Incoming(Topics.REPO_SYNCED)
    @Blocking(ordered = true)
    public CompletionStage<Void> repoSynced(Message<ConveyorEvent> message) {
        return handle(message);
    }

    @Incoming(Topics.RELEASE_HEALTHY)
    @Blocking(ordered = true)
    public CompletionStage<Void> releaseHealthy(Message<ConveyorEvent> message) {
        return handle(message);
    }

    @Incoming(Topics.RELEASE_DEGRADED)
    @Blocking(ordered = true)
    public CompletionStage<Void> releaseDegraded(Message<ConveyorEvent> message) {
        return handle(message);
    }

    @Incoming(Topics.STAGE_FAILED)
    @Blocking(ordered = true)
    public CompletionStage<Void> stageFailed(Message<ConveyorEvent> message) {
        return handle(message);
    }

    CompletionStage<Void> handle(Message<ConveyorEvent> message) {
        ConveyorEvent event = message.getPayload();
        if (event == null) {
            notifier.unreadable();
            return message.nack(new IllegalArgumentException(EventMessages.deserializationFailure(message)));
        }
        String id = EventMessages.cloudEventId(message).orElseGet(() -> CloudEventAttributes.idOf(event));
        try {
            notifier.accept(event, id);
        } catch (RuntimeException e) {
            // the journal could not be written: nothing was promised, the record goes to the dead-letter topic
            LOG.errorf("app %s run %s: cannot record event %s: %s", event.run().app(), event.run().runId(), id,
                    e.getMessage());
            return message.nack(e);
        }
        return message.ack();
    }

}
