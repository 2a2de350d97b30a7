package dev.conveyor.fluxsync.rest;

import java.util.Map;
import java.util.Optional;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.jboss.logging.Logger;

import dev.conveyor.fluxsync.config.FluxSyncConfig;
import dev.conveyor.fluxsync.messaging.SyncScheduler;
import dev.conveyor.fluxsync.service.FluxSyncService;
import dev.conveyor.fluxsync.service.RepoSpec;

/**
 * HTTP: the git webhook that syncs a repository at once (HMAC-checked), suspend/resume per repository, and the SSH
 * identity's public key.
 */
@Path("/")
public class FluxSyncResource {

    private static final Logger LOG = Logger.getLogger(FluxSyncResource.class);

    @Inject
    FluxSyncService service;

    @Inject
    SyncScheduler scheduler;

    @Inject
    FluxSyncConfig config;

    @Inject
    IdentityHolder identity;

    /**
     * Signs nothing real: the signature of a hook for an unknown repository (or one without a webhook secret) is still
     * computed and compared against this, so such a hook costs what a bad signature costs.
     */
    private static final String NO_SECRET = "conveyor-flux-sync-no-webhook-secret";

    /**
     * A push to the repository: verified against its webhook secret, then a sync is queued. A hook for a repository
     * that is not configured, or has no webhook secret, gets exactly the answer of a bad signature (401, same body),
     * after the same HMAC work: repository names cannot be probed.
     */
    @POST
    @Path("hooks/git/{repo}")
    @Produces(MediaType.APPLICATION_JSON)
    public Response webhook(@PathParam("repo") String repo, @HeaderParam("X-Hub-Signature-256") String signature,
            byte[] body) {
        FluxSyncConfig.Repo settings = config.repos().get(repo);
        Optional<String> secret = settings == null
                ? Optional.empty()
                : settings.webhookSecret().filter(s -> !s.isEmpty());
        boolean valid = WebhookSignature.valid(secret.orElse(NO_SECRET), body == null ? new byte[0] : body,
                signature == null ? "" : signature);
        if (!valid || secret.isEmpty()) {
            // The log names no repository that is not configured (it is the caller's input).
            LOG.warnf("[flux-sync] webhook refused: bad or missing signature, or no such repository with a secret");
            return Response.status(401).entity(Map.of("error", "invalid signature")).build();
        }
        if (service.requestSync(repo)) {
            scheduler.trigger(repo);
        }
        // queued here, or handed to the replica that owns the repository
        return Response.accepted(Map.of("repo", repo, "sync", "queued")).build();
    }

    @POST
    @Path("repos/{repo}/suspend")
    @Produces(MediaType.APPLICATION_JSON)
    public Response suspend(@PathParam("repo") String repo) {
        return service.suspend(repo, true).map(r -> Response.ok(state(r)).build())
                .orElse(Response.status(404).build());
    }

    @POST
    @Path("repos/{repo}/resume")
    @Produces(MediaType.APPLICATION_JSON)
    public Response resume(@PathParam("repo") String repo) {
        Optional<RepoSpec> r = service.suspend(repo, false);
        r.ifPresent(x -> scheduler.trigger(repo));
        return r.map(x -> Response.ok(state(x)).build()).orElse(Response.status(404).build());
    }

    @GET
    @Path("repos")
    @Produces(MediaType.APPLICATION_JSON)
    public java.util.List<Map<String, Object>> repos() {
        return service.repos().stream().map(this::state).toList();
    }

    @GET
    @Path("identity.pub")
    @Produces(MediaType.TEXT_PLAIN)
    public Response identity() {
        return identity.publicKey().map(k -> Response.ok(k + "\n").build())
                .orElse(Response.status(404).entity("identity is disabled\n").build());
    }

    private Map<String, Object> state(RepoSpec r) {
        String revision = service.reconciler().revision(r.name());
        return Map.of("name", r.name(), "suspended", r.suspended(), "revision", revision == null ? "" : revision,
                "skipped", service.reconciler().skipped(r.name()).stream().map(s -> Map.of("path", s.path(), "reason",
                        s.reason())).toList());
    }
}
