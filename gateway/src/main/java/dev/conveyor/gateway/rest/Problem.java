package dev.conveyor.gateway.rest;

import java.util.List;

import jakarta.ws.rs.core.Response;

import dev.conveyor.gateway.domain.FieldError;
import dev.conveyor.gateway.service.GatewayException;
import dev.conveyor.gateway.service.GatewayFailure;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * An RFC 9457 problem document ({@code application/problem+json}), with the machine reason and, for validation
 * failures, every bad field.
 *
 * @param type a URI naming the kind of problem
 * @param title a short summary of the kind
 * @param status the HTTP status
 * @param detail what went wrong in this case
 * @param reason the machine reason code
 * @param errors the invalid fields, each with a message
 */
@RegisterForReflection
public record Problem(String type, String title, int status, String detail, String reason, List<FieldError> errors) {

    /** The media type of problem documents. */
    public static final String MEDIA_TYPE = "application/problem+json";

    /** The response for a refused request. */
    public static Response of(GatewayFailure reason, String detail, List<FieldError> errors) {
        Problem problem = new Problem("https://conveyor.dev/problems/" + reason.name().toLowerCase().replace('_', '-'),
                title(reason), reason.status(), detail, reason.name(), errors);
        Response.ResponseBuilder response = Response.status(reason.status()).type(MEDIA_TYPE).entity(problem);
        if (reason == GatewayFailure.UNAUTHORIZED) {
            response.header("WWW-Authenticate", "Bearer realm=\"conveyor\"");
        }
        return response.build();
    }

    public static Response of(GatewayException e) {
        Response response = of(e.reason(), e.getMessage(), e.errors());
        e.retryAfter().ifPresent(wait -> response.getHeaders().putSingle("Retry-After",
                Long.toString(Math.max(1, (wait.toMillis() + 999) / 1000))));
        return response;
    }

    private static String title(GatewayFailure reason) {
        return switch (reason) {
            case INVALID_HOOK -> "Invalid build report";
            case INVALID_QUERY -> "Invalid query";
            case UNAUTHORIZED -> "Not authenticated";
            case FORBIDDEN -> "Not allowed for this role";
            case BODY_TOO_LARGE -> "Body too large";
            case FIELD_TOO_LARGE -> "Field too large";
            case UNSUPPORTED_MEDIA_TYPE -> "Unsupported media type";
            case RATE_LIMITED -> "Too many requests";
            case UNKNOWN_RUN -> "Unknown run";
            case UNKNOWN_STAGE -> "Unknown stage";
            case NOT_REPLAYABLE -> "Stage cannot be replayed";
            case NO_RECORDED_INPUT -> "Nothing to replay";
            case INVALID_WINDOW -> "Invalid replay window";
            case PUBLISH_FAILED -> "Event log unavailable";
        };
    }
}
