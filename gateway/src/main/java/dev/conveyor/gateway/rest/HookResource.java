package dev.conveyor.gateway.rest;

import java.io.IOException;
import java.io.InputStream;

import jakarta.inject.Inject;
import jakarta.inject.Named;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import dev.conveyor.gateway.config.GatewayConfig;
import dev.conveyor.gateway.domain.HookSignature;
import dev.conveyor.gateway.domain.RateLimiter;
import dev.conveyor.gateway.service.GatewayException;
import dev.conveyor.gateway.service.GatewayFailure;
import dev.conveyor.gateway.service.HookService;
import dev.conveyor.gateway.service.HookService.HookResult;
import io.vertx.core.http.HttpServerRequest;

/**
 * {@code POST /hooks/jenkins}: a build result from Jenkins. Checked in this order: rate per client address (429),
 * declared size (413), media type (415), size (413), authentication (401), content (400 naming every bad field, or
 * 413 naming a field over its limit); then the event is published and the answer is 202 with the run id, or 200
 * with the same run id for a hook seen before.
 */
@Path("/hooks")
public class HookResource {

    /** Header carrying {@code sha256=<hex HMAC-SHA256 of the raw body>}. */
    public static final String SIGNATURE_HEADER = "X-Conveyor-Signature";

    @Inject
    GatewayConfig config;

    @Inject
    HookService hooks;

    @Inject
    @Named("hooks")
    RateLimiter limits;

    @POST
    @Path("/jenkins")
    @Produces(MediaType.APPLICATION_JSON)
    public Response jenkins(@HeaderParam("Content-Length") Long contentLength,
            @HeaderParam("Content-Type") String contentType, @HeaderParam(SIGNATURE_HEADER) String signature,
            @HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
            InputStream body) throws IOException {
        String source = request.remoteAddress() == null ? "unknown" : request.remoteAddress().hostAddress();
        limits.acquire(source).ifPresent(wait -> {
            throw GatewayException.retryAfter(GatewayFailure.RATE_LIMITED,
                    "too many hooks from this address; try again later", wait);
        });
        int max = config.hook().maxBodyBytes();
        if (contentLength != null && contentLength > max) {
            throw tooLarge(max);
        }
        if (!isJsonUtf8(contentType)) {
            throw new GatewayException(GatewayFailure.UNSUPPORTED_MEDIA_TYPE,
                    "the body must be sent as Content-Type: application/json (UTF-8)");
        }
        byte[] bytes = body == null ? new byte[0] : body.readNBytes(max + 1);
        if (bytes.length > max) {
            throw tooLarge(max);
        }
        if (!authenticated(bytes, signature, authorization)) {
            throw new GatewayException(GatewayFailure.UNAUTHORIZED,
                    "a valid " + SIGNATURE_HEADER + " signature or bearer token is required");
        }
        HookResult result = hooks.receive(bytes);
        return Response.status(result.duplicate() ? 200 : 202).entity(result)
                .header("Location", "/runs/" + result.runId()).build();
    }

    private boolean authenticated(byte[] body, String signature, String authorization) {
        boolean signed = signature != null && config.hook().secret()
                .map(secret -> HookSignature.verify(body, signature, secret)).orElse(false);
        return signed || config.hook().token().map(t -> HookSignature.bearerMatches(authorization, t)).orElse(false);
    }

    /** {@code application/json}, with no parameter but an optional {@code charset=utf-8}. */
    static boolean isJsonUtf8(String contentType) {
        if (contentType == null) {
            return false;
        }
        String[] parts = contentType.split(";");
        if (!parts[0].trim().equalsIgnoreCase(MediaType.APPLICATION_JSON)) {
            return false;
        }
        for (int i = 1; i < parts.length; i++) {
            String[] param = parts[i].split("=", 2);
            String value = param.length == 2 ? param[1].trim().replace("\"", "") : "";
            if (!param[0].trim().equalsIgnoreCase("charset") || !value.equalsIgnoreCase("utf-8")) {
                return false;
            }
        }
        return true;
    }

    private static GatewayException tooLarge(int max) {
        return new GatewayException(GatewayFailure.BODY_TOO_LARGE, "the body is larger than " + max + " bytes");
    }
}
