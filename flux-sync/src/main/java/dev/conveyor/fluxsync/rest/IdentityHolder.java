package dev.conveyor.fluxsync.rest;

import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import dev.conveyor.fluxsync.client.SshIdentity;
import dev.conveyor.fluxsync.config.FluxSyncConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.runtime.StartupEvent;

/**
 * Creates or loads the SSH identity and logs its public key, as the seed's Flux did: off the start path (a thread of
 * its own right after start; the key git uses is written by the service's wiring), or at the first request of
 * {@code /identity.pub} if that comes first.
 */
@ApplicationScoped
public class IdentityHolder {

    private static final Logger LOG = Logger.getLogger(IdentityHolder.class);

    @Inject
    KubernetesClient client;

    @Inject
    FluxSyncConfig config;

    private volatile String publicKey;

    void onStart(@Observes StartupEvent start) {
        if (!config.identity().enabled()) {
            return;
        }
        Thread t = new Thread(this::load, "flux-sync-identity");
        t.setDaemon(true);
        t.start();
    }

    private synchronized String load() {
        if (publicKey == null) {
            try {
                publicKey = SshIdentity.ensure(client, config.namespace(), config.identity().secretName());
                LOG.infof("[flux-sync] identity.pub: \"%s\"", publicKey);
            } catch (RuntimeException e) {
                LOG.errorf("[flux-sync] cannot create or read the SSH identity Secret %s/%s: %s", config.namespace(),
                        config.identity().secretName(), e.getMessage());
            }
        }
        return publicKey;
    }

    public Optional<String> publicKey() {
        String key = publicKey;
        if (key == null && config.identity().enabled()) {
            key = load();
        }
        return Optional.ofNullable(key);
    }
}
