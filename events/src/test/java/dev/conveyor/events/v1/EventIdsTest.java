package dev.conveyor.events.v1;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import org.junit.jupiter.api.Test;

/**
 * Event ids are a function of what the event says happened: the same happening reported twice (after a crash, from
 * another trigger, at a later revision) has one id; a different run, attempt, repository or release has another.
 */
class EventIdsTest {

    static final String REPO = "ssh://git@git.example.com/acme/flux.git";
    static final String REV1 = "1234567890abcdef1234567890abcdef12345678";
    static final String REV2 = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";

    static PipelineRun run() {
        return SampleEvents.cdRun();
    }

    static PipelineRun otherRun() {
        return PipelineRun.start("shop-web", "https://git.example.com/acme/shop-web.git",
                "2f1e3d4c5b6a798081726354453627181909a0b1", "main", null, Flow.CD);
    }

    static RepoSynced synced(PipelineRun run, String cause, String repo, String revision, List<String> runIds) {
        return new RepoSynced(run, Instant.now(), cause, repo, revision, runIds, new SyncSummary(1, 0, 0, 0));
    }

    static ReleaseHealthy healthy(PipelineRun run, String cause, String repo, String revision, String ns,
            String release) {
        return new ReleaseHealthy(run, Instant.now(), cause, repo, revision, ns, release, List.of("Deployment/x"));
    }

    static ReleaseDegraded degraded(PipelineRun run, String cause, String repo, String revision, String ns,
            String release, String reason) {
        return new ReleaseDegraded(run, Instant.now(), cause, repo, revision, ns, release, reason, "not ready");
    }

    static String id(ConveyorEvent e) {
        return CloudEventAttributes.idOf(e);
    }

    @Test
    void repoSyncedOfOneRunInOneRepositoryHasOneIdWhateverTheTriggerRevisionOrRunsListed() {
        String byPromotion = id(synced(run(), "promotion-ce-id", REPO, REV1, List.of(run().runId())));
        // reported again after a crash, by a poll (no causation), at a later revision, with other runs listed
        assertThat(id(synced(run(), null, REPO, REV2, List.of("r-00000000000000000000beef", run().runId()))))
                .isEqualTo(byPromotion);
        // the same repository spelled with a trailing slash or another host case
        assertThat(id(synced(run(), "other-cause", "ssh://git@Git.Example.com/acme/flux/", REV1, List.of())))
                .isEqualTo(byPromotion);
    }

    @Test
    void repoSyncedOfAnotherRunAttemptOrRepositoryHasAnotherId() {
        Set<String> ids = new HashSet<>();
        ids.add(id(synced(run(), "c", REPO, REV1, List.of())));
        ids.add(id(synced(run().nextAttempt(), "c", REPO, REV1, List.of())));
        ids.add(id(synced(otherRun(), "c", REPO, REV1, List.of())));
        ids.add(id(synced(run(), "c", "ssh://git@git.example.com/acme/flux-prod.git", REV1, List.of())));
        assertThat(ids).hasSize(4);
    }

    @Test
    void releaseHealthyAndDegradedOfOneRunsReleaseHaveOneIdWhateverTheTriggerOrRevision() {
        assertThat(id(healthy(run(), null, REPO, REV2, "shop", "api")))
                .isEqualTo(id(healthy(run(), "promotion-ce-id", REPO, REV1, "shop", "api")));
        assertThat(id(degraded(run(), null, REPO, REV2, "shop", "api", "RolloutTimeout")))
                .isEqualTo(id(degraded(run(), "promotion-ce-id", REPO, REV1, "shop", "api", "RolloutTimeout")));
        // healthy and degraded are different happenings
        assertThat(id(healthy(run(), "c", REPO, REV1, "shop", "api")))
                .isNotEqualTo(id(degraded(run(), "c", REPO, REV1, "shop", "api", "RolloutTimeout")));
    }

    @Test
    void releaseHealthyAndDegradedOfAnotherRunAttemptRepositoryOrReleaseHaveAnotherId() {
        Set<String> healthy = new HashSet<>();
        healthy.add(id(healthy(run(), "c", REPO, REV1, "shop", "api")));
        healthy.add(id(healthy(run().nextAttempt(), "c", REPO, REV1, "shop", "api")));
        healthy.add(id(healthy(otherRun(), "c", REPO, REV1, "shop", "api")));
        healthy.add(id(healthy(run(), "c", "ssh://git@git.example.com/acme/flux-prod.git", REV1, "shop", "api")));
        healthy.add(id(healthy(run(), "c", REPO, REV1, "shop-staging", "api")));
        healthy.add(id(healthy(run(), "c", REPO, REV1, "shop", "web")));
        assertThat(healthy).hasSize(6);
        Set<String> degraded = new HashSet<>();
        degraded.add(id(degraded(run(), "c", REPO, REV1, "shop", "api", "RolloutTimeout")));
        degraded.add(id(degraded(run().nextAttempt(), "c", REPO, REV1, "shop", "api", "RolloutTimeout")));
        degraded.add(id(degraded(otherRun(), "c", REPO, REV1, "shop", "api", "RolloutTimeout")));
        degraded.add(id(degraded(run(), "c", "ssh://git@git.example.com/acme/flux-prod.git", REV1, "shop", "api",
                "RolloutTimeout")));
        degraded.add(id(degraded(run(), "c", REPO, REV1, "shop-staging", "api", "RolloutTimeout")));
        degraded.add(id(degraded(run(), "c", REPO, REV1, "shop", "web", "RolloutTimeout")));
        assertThat(degraded).hasSize(6);
    }

    @Test
    void everyOtherTypeKeepsTheIdOfTypeRunAttemptCausationAndDiscriminator() {
        List<ConveyorEvent> others = SampleEvents.all().stream().filter(e -> !(e instanceof RepoSynced
                || e instanceof ReleaseHealthy || e instanceof ReleaseDegraded)).toList();
        assertThat(others).extracting(ConveyorEvent::eventType).containsExactlyInAnyOrder(EventType.BUILD_SUCCEEDED,
                EventType.BUILD_FAILED, EventType.VERSION_RESOLVED, EventType.IMAGE_PUSHED,
                EventType.MANIFESTS_VALIDATED, EventType.CHART_PUBLISHED, EventType.RELEASE_PROMOTED,
                EventType.STAGE_FAILED);
        for (ConveyorEvent e : others) {
            String name = e.eventType().type() + "\n" + e.run().runId() + "\n" + e.run().attempt() + "\n"
                    + (e.causationId() == null ? "" : e.causationId()) + "\n" + e.discriminator();
            assertThat(id(e)).as(e.eventType().eventName())
                    .isEqualTo(UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString());
        }
    }
}
