package dev.conveyor.notifier.client;

import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;

import dev.conveyor.notifier.domain.Delivery;

/** One provider's API: makes one {@link Delivery} and returns the per-run references it produced. */
public interface ProviderClient {

    /** Per-run reference keys kept in the state journal. */
    String PR_COMMENT = "pr-comment";
    String SLACK_CHANNEL = "slack-channel";
    String SLACK_TS = "slack-ts";

    /**
     * @param delivery the call
     * @param refs the stored per-run references, by run id and key
     * @return references to store for the run (e.g. the new comment's id); empty when none
     */
    Map<String, String> deliver(Delivery delivery, BiFunction<String, String, Optional<String>> refs)
            throws DeliveryException;
}
