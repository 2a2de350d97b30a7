package dev.conveyor.stage.net;

import java.util.Map;

import dev.conveyor.stage.FailureKind;
import dev.conveyor.stage.StageException;

/**
 * A URL refused by the {@link OutboundPolicy}: terminal, reason {@code OUTBOUND_REFUSED}, detail {@code field} naming
 * the input field the URL came from. The message names the field and the rule, never a credential and never anything a
 * server answered.
 */
public final class OutboundRefused extends StageException {

    private final String field;

    OutboundRefused(String field, String why) {
        super(FailureKind.TERMINAL, OutboundFailure.OUTBOUND_REFUSED, field + " " + why, Map.of("field", field), null);
        this.field = field;
    }

    /** The input field the refused URL came from, e.g. {@code repoUrl} or {@code artifact.url}. */
    public String field() {
        return field;
    }

    /** The rule that refused it, without the field name. */
    public String why() {
        return getMessage().substring(field.length() + 1);
    }
}
