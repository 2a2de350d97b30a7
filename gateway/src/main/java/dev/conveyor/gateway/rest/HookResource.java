package dev.conveyor.gateway.rest;

import java.io.IOException;
import java.io.InputStream;

import jakarta.inject.Inject;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import dev.conveyor.gateway.config.GatewayConfig;
import dev.conveyor.gateway.domain.HookSignature;
import dev.conveyor.gateway.service.GatewayException;
import dev.conveyor.gateway.service.GatewayFailure;
import dev.conveyor.gateway.service.HookService;
import dev.conveyor.gateway.service.HookService.HookResult;

/**
 * {@code POST /hooks/jenkins}: a build result from Jenkins. Checked in this order: size (413), authentication (401),
 * content (400, naming every bad field); then the event is published and the answer is 202 with the run id, or 200
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

    @POST
    @Path("/jenkins")
    @Produces(MediaType.APPLICATION_JSON)
    public Response jenkins(@HeaderParam("Content-Length") Long contentLength,
            @HeaderParam(SIGNATURE_HEADER) String signature, @HeaderParam("Authorization") String authorization,
            InputStream body) throws IOException {
        int max = config.hook().maxBodyBytes();
        if (contentLength != null && contentLength > max) {
            throw tooLarge(max);
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

    private static GatewayException tooLarge(int max) {
        return new GatewayException(GatewayFailure.BODY_TOO_LARGE, "the body is larger than " + max + " bytes");
    }
}
