package dev.conveyor.gateway.domain;

import java.util.ArrayList;
import java.util.List;

import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.stage.net.OutboundPolicy;
import dev.conveyor.stage.net.OutboundRefused;

/**
 * The hook's URLs that stages will dial, checked against the installation's outbound policy at the edge: a refused
 * one is a 400 naming the field, before any event is published. Only the URL-level check runs here (no DNS, no file
 * system): the stages check again where they connect, answers resolved. {@code buildUrl} is only shown, never dialled,
 * so it is not checked here.
 */
public final class HookUrls {

    private final OutboundPolicy policy;

    public HookUrls(OutboundPolicy policy) {
        this.policy = policy;
    }

    /** The fields of the hook whose URL the policy refuses; empty when every dialled URL is allowed. */
    public List<FieldError> errors(ConveyorEvent event) {
        List<FieldError> errors = new ArrayList<>();
        check("repoUrl", event.run().repoUrl(), errors);
        if (event instanceof BuildSucceeded built && built.artifact() != null) {
            check("artifact.url", built.artifact().uri(), errors);
        }
        return errors;
    }

    /**
     * Fails with every refused field.
     *
     * @throws HookRejectedException naming each field the policy refuses
     */
    public void require(ConveyorEvent event) {
        List<FieldError> errors = errors(event);
        if (!errors.isEmpty()) {
            throw new HookRejectedException(errors);
        }
    }

    private void check(String field, String url, List<FieldError> errors) {
        try {
            policy.check(field, url);
        } catch (OutboundRefused e) {
            errors.add(new FieldError(field, e.why()));
        }
    }
}
