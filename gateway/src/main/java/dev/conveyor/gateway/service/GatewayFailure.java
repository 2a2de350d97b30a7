package dev.conveyor.gateway.service;

/** Why the gateway refused a request: the problem document's {@code reason}, with its HTTP status. */
public enum GatewayFailure {
    /** The hook's body is not a valid build report; {@code errors} names every bad field. */
    INVALID_HOOK(400),
    /** A query parameter of the run API is invalid; {@code errors} names it. */
    INVALID_QUERY(400),
    /** No valid signature or bearer token. */
    UNAUTHORIZED(401),
    /** A valid bearer token whose role does not allow the request (a viewer replaying). */
    FORBIDDEN(403),
    /** The body is larger than {@code conveyor.gateway.hook.max-body-bytes}. */
    BODY_TOO_LARGE(413),
    /** A field of the hook is longer than its limit; {@code errors} names it. */
    FIELD_TOO_LARGE(413),
    /** The hook's {@code Content-Type} is not {@code application/json} in UTF-8. */
    UNSUPPORTED_MEDIA_TYPE(415),
    /** Too many hooks or replays from one source; {@code Retry-After} says when to try again. */
    RATE_LIMITED(429),
    /** No run with this id in the read model. */
    UNKNOWN_RUN(404),
    /** {@code from} names no step. */
    UNKNOWN_STAGE(400),
    /** The step cannot be replayed by the gateway (the build is rerun in Jenkins). */
    NOT_REPLAYABLE(400),
    /** The run never reached the step, so there is no input event to re-publish. */
    NO_RECORDED_INPUT(409),
    /** A replay window that is missing, unreadable or empty. */
    INVALID_WINDOW(400),
    /** The broker did not acknowledge the event in time; the sender should retry. */
    PUBLISH_FAILED(503);

    private final int status;

    GatewayFailure(int status) {
        this.status = status;
    }

    public int status() {
        return status;
    }
}
