package dev.conveyor.fluxsync.messaging;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * Two GitOps repositories in the testkit's git root, the first with a webhook secret; rollouts time out after a few
 * seconds.
 */
public class FluxSyncTestProfile implements QuarkusTestProfile {

    public static final String REPO = "gitops-it";
    public static final String REPO_B = "gitops-it-b";
    public static final String WEBHOOK_SECRET = "webhook-s3cret";

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("conveyor.flux-sync.repos.gitops.url", "file://${conveyor.testkit.git.root}/" + REPO + ".git",
                "conveyor.flux-sync.repos.gitops.webhook-secret", WEBHOOK_SECRET,
                "conveyor.flux-sync.repos.gitops-b.url", "file://${conveyor.testkit.git.root}/" + REPO_B + ".git",
                "conveyor.flux-sync.health.timeout", "6s", "conveyor.warm-up.enabled", "true");
    }
}
