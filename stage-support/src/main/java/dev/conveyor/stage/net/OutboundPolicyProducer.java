package dev.conveyor.stage.net;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** The one {@link OutboundPolicy} of a service, from {@code conveyor.outbound.*}. */
@ApplicationScoped
public class OutboundPolicyProducer {

    @Produces
    @Singleton
    OutboundPolicy outboundPolicy(OutboundConfig config) {
        return config.toPolicy();
    }
}
