package dev.conveyor.fluxsync.messaging;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/** One GitOps repository in the testkit's git root, with a webhook secret. */
public class FluxSyncTestProfile implements QuarkusTestProfile {

    public static final String REPO = "gitops-it";
    public static final String WEBHOOK_SECRET = "webhook-s3cret";

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("conveyor.flux-sync.repos.gitops.url", "file://${conveyor.testkit.git.root}/" + REPO + ".git",
                "conveyor.flux-sync.repos.gitops.webhook-secret", WEBHOOK_SECRET);
    }
}
