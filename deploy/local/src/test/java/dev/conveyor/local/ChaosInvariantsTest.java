package dev.conveyor.local;

import static dev.conveyor.local.ChaosInvariants.Rule.DUPLICATE_EVENT;
import static dev.conveyor.local.ChaosInvariants.Rule.GITOPS_COMMIT;
import static dev.conveyor.local.ChaosInvariants.Rule.IMAGE_DIGEST;
import static dev.conveyor.local.ChaosInvariants.Rule.JIRA_COMMENT;
import static dev.conveyor.local.ChaosInvariants.Rule.JIRA_TRANSITION;
import static dev.conveyor.local.ChaosInvariants.Rule.MANIFESTS_COMMIT;
import static dev.conveyor.local.ChaosInvariants.Rule.RELEASE_HEALTH;
import static dev.conveyor.local.ChaosInvariants.Rule.REPO_SYNCED;
import static dev.conveyor.local.ChaosInvariants.Rule.SLACK_FINAL_STATE;
import static dev.conveyor.local.ChaosInvariants.Rule.SLACK_MESSAGE;
import static dev.conveyor.local.ChaosInvariants.Rule.TAG_WITHOUT_VERSION;
import static dev.conveyor.local.ChaosInvariants.Rule.TERMINAL;
import static dev.conveyor.local.ChaosInvariants.Rule.VERSION_TAG;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import org.junit.jupiter.api.Test;

import dev.conveyor.events.v1.Artifact;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.BumpReason;
import dev.conveyor.events.v1.ChartPublished;
import dev.conveyor.events.v1.CloudEventAttributes;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.PromotionMode;
import dev.conveyor.events.v1.ReleaseDegraded;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.events.v1.RunTrailer;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.StageFailed;
import dev.conveyor.events.v1.SyncSummary;
import dev.conveyor.events.v1.VersionResolved;

/** The chaos suite's checker on its own: a clean run passes, and each broken invariant is named. */
class ChaosInvariantsTest {

    static final String REPO = "git://127.0.0.1:9418/acme/shop.git";
    static final String GITOPS = "git://127.0.0.1:9418/acme/gitops.git";
    static final String COMMIT = "a".repeat(40);
    static final String NEXT_COMMIT = "b".repeat(40);
    static final PipelineRun RUN = PipelineRun.start("shop", REPO, COMMIT, "main", null, Flow.CD);
    static final PipelineRun NEXT = PipelineRun.start("shop", REPO, NEXT_COMMIT, "main", null, Flow.CD);
    static final String DIGEST = "sha256:" + "1".repeat(64);
    static final String OTHER_DIGEST = "sha256:" + "2".repeat(64);
    static final String REVISION = "c".repeat(40);
    static final Instant T = Instant.parse("2026-11-24T10:00:00Z");

    @Test
    void aCleanRunKeepsEveryInvariant() {
        assertThat(ChaosInvariants.check(clean())).isEmpty();
    }

    @Test
    void aRunThatDoesNotEndIsNamed() {
        assertThat(rules(f -> with(f, false, f.events(), f.stubRequests()))).contains(TERMINAL);
        assertThat(rules(f -> events(f, f.events().stream().filter(e -> !e.isHealth()).toList()))).contains(TERMINAL);
    }

    @Test
    void aFailedRunIsTerminalAndNeedsNoDeployment() {
        List<ChaosEvent> events = new ArrayList<>(clean().events().subList(0, 3));
        events.add(event(new StageFailed(RUN, T, events.get(2).ceId(), Stage.MANIFEST_RENDERER, "RENDER_FAILED",
                false, "bad chart", Map.of()), Stage.MANIFEST_RENDERER));
        ChaosRunFacts f = clean();
        f = new ChaosRunFacts(f.runId(), f.flow(), f.commit(), f.jiraKey(), true, f.deadline(), events, f.tags(),
                List.of("feat: SHOP-7 free shipping"), List.of(), f.storedDigests(), List.of(slackPost("running"),
                        slackUpdate("failed")),
                false);
        assertThat(ChaosInvariants.check(f)).isEmpty();
    }

    @Test
    void tagsAreCounted() {
        ChaosRunFacts.GitTag second = new ChaosRunFacts.GitTag("v1.2.1", COMMIT, "Release 1.2.1\n\n" + RunTrailer.of(
                RUN.runId()));
        assertThat(rules(f -> tags(f, List.of(f.tags().get(0), second)))).contains(VERSION_TAG, TAG_WITHOUT_VERSION);
        assertThat(rules(f -> tags(f, List.of()))).containsExactly(VERSION_TAG);
        // A tag elsewhere that names the run in its trailer, without a VersionResolved naming it.
        ChaosRunFacts.GitTag elsewhere = new ChaosRunFacts.GitTag("v9.9.9", NEXT_COMMIT, "Release 9.9.9\n\n"
                + RunTrailer.of(RUN.runId()));
        assertThat(rules(f -> tags(f, List.of(f.tags().get(0), elsewhere)))).containsExactly(TAG_WITHOUT_VERSION);
    }

    @Test
    void aTagWithoutItsVersionResolvedIsNamed() {
        assertThat(rules(f -> events(f, f.events().stream().filter(e -> !(e.event() instanceof VersionResolved))
                .toList()))).contains(TAG_WITHOUT_VERSION);
    }

    @Test
    void oneDigestPerVersion() {
        ChaosEvent pushed = clean().events().get(2);
        ImagePushed p = (ImagePushed) pushed.event();
        ImagePushed again = new ImagePushed(RUN, T, "other-cause", p.version(), p.repository(), p.tags(),
                OTHER_DIGEST, 10);
        assertThat(rules(f -> events(f, plus(f.events(), event(again, Stage.IMAGE_BUILDER))))).contains(IMAGE_DIGEST);
        assertThat(rules(f -> new ChaosRunFacts(f.runId(), f.flow(), f.commit(), f.jiraKey(), f.ended(), f.deadline(),
                f.events(), f.tags(), f.appCommitMessages(), f.gitopsCommitMessages(), Map.of("1.2.0", OTHER_DIGEST),
                f.stubRequests(), false))).containsExactly(IMAGE_DIGEST);
    }

    @Test
    void trailerCommitsAreCounted() {
        String manifests = "chore(manifests): render 1.2.0 [skip ci]\n\n" + RunTrailer.of(RUN.runId());
        assertThat(rules(f -> commits(f, plus(f.appCommitMessages(), manifests), f.gitopsCommitMessages())))
                .containsExactly(MANIFESTS_COMMIT);
        assertThat(rules(f -> commits(f, f.appCommitMessages(), List.of()))).containsExactly(GITOPS_COMMIT);
        assertThat(rules(f -> commits(f, f.appCommitMessages(), plus(f.gitopsCommitMessages(), f
                .gitopsCommitMessages().get(0))))).containsExactly(GITOPS_COMMIT);
    }

    @Test
    void aSecondRepoSyncedListingTheRunIsNamed() {
        RepoSynced later = new RepoSynced(NEXT, T, "x", GITOPS, "d".repeat(40), List.of(RUN.runId(), NEXT.runId()),
                new SyncSummary(0, 1, 3, 0));
        assertThat(rules(f -> events(f, plus(f.events(), event(later, Stage.FLUX_SYNC))))).containsExactly(
                REPO_SYNCED);
        assertThat(rules(f -> events(f, f.events().stream().filter(e -> !(e.event() instanceof RepoSynced))
                .toList()))).contains(REPO_SYNCED);
    }

    @Test
    void oneHealthPerRun() {
        ReleaseDegraded degraded = new ReleaseDegraded(RUN, T, "y", GITOPS, "e".repeat(40), "shop", "shop",
                "ROLLOUT_TIMEOUT", "not ready");
        assertThat(rules(f -> events(f, plus(f.events(), event(degraded, Stage.FLUX_SYNC))))).contains(
                RELEASE_HEALTH);
    }

    @Test
    void oneSlackMessageShowingTheFinalState() {
        assertThat(rules(f -> stubs(f, plus(f.stubRequests(), slackPost("running"))))).contains(SLACK_MESSAGE);
        assertThat(rules(f -> stubs(f, List.of(slackUpdate("deployed"), jiraComment())))).containsExactly(
                SLACK_MESSAGE);
        // A reply in the thread is not a second message.
        assertThat(rules(f -> stubs(f, plus(f.stubRequests(), slackReply())))).isEmpty();
        assertThat(rules(f -> stubs(f, List.of(slackPost("running"), slackUpdate("running"), jiraComment()))))
                .containsExactly(SLACK_FINAL_STATE);
        // The newest request decides, whatever order the journal lists them in.
        ChaosStubRequest post = slackPost("running");
        ChaosStubRequest update = slackUpdate("deployed");
        assertThat(rules(f -> stubs(f, List.of(update, post, jiraComment())))).isEmpty();
    }

    @Test
    void oneJiraCommentForADeployedRun() {
        assertThat(rules(f -> stubs(f, plus(f.stubRequests(), jiraComment())))).containsExactly(JIRA_COMMENT);
        assertThat(rules(f -> stubs(f, List.of(slackPost("running"), slackUpdate("deployed"))))).containsExactly(
                JIRA_COMMENT);
        ChaosRunFacts f = clean();
        ChaosRunFacts configured = new ChaosRunFacts(f.runId(), f.flow(), f.commit(), f.jiraKey(), f.ended(), f
                .deadline(), f.events(), f.tags(), f.appCommitMessages(), f.gitopsCommitMessages(), f.storedDigests(),
                f.stubRequests(), true);
        assertThat(ChaosInvariants.check(configured)).extracting(ChaosInvariants.Violation::rule).containsExactly(
                JIRA_TRANSITION);
    }

    @Test
    void oneEventUnderTwoIdsIsNamed() {
        ChaosEvent version = clean().events().get(1);
        ChaosEvent twin = new ChaosEvent(version.topic(), 0, 99, T, "another-id", version.source(), version.event());
        ChaosEvent redelivered = new ChaosEvent(version.topic(), 0, 100, T, version.ceId(), version.source(), version
                .event());
        assertThat(rules(f -> events(f, plus(f.events(), twin)))).containsExactly(DUPLICATE_EVENT);
        assertThat(rules(f -> events(f, plus(f.events(), redelivered)))).isEmpty();
    }

    // --- the facts of a clean CD run, and ways to break them

    static ChaosRunFacts clean() {
        Artifact artifact = new Artifact("file:///shop.jar", "f".repeat(64), 10L, "jar");
        BuildSucceeded build = new BuildSucceeded(RUN, T, null, "http://jenkins/1/", artifact, null, null);
        VersionResolved version = new VersionResolved(RUN, T, id(build), "1.2.0", "v1.2.0", true, "1.1.0",
                BumpReason.MINOR, List.of("feat: SHOP-7 free shipping"), artifact);
        ImagePushed image = new ImagePushed(RUN, T, id(version), "1.2.0", "conveyor-demo/shop", List.of("1.2.0"),
                DIGEST, 10);
        ManifestsValidated manifests = new ManifestsValidated(RUN, T, id(image), "1.2.0", "conveyor-demo/shop", DIGEST,
                "shop", "chart", "9".repeat(40), 3, DIGEST, null, 0);
        ChartPublished chart = new ChartPublished(RUN, T, id(manifests), "shop", "1.2.0", DIGEST, List.of("local"),
                "conveyor-demo/shop", DIGEST);
        ReleasePromoted promoted = new ReleasePromoted(RUN, T, id(manifests), "shop", "1.2.0", GITOPS, "local",
                "shop", "shop", REVISION, PromotionMode.AUTO, null);
        RepoSynced synced = new RepoSynced(RUN, T, id(promoted), GITOPS, REVISION, List.of(RUN.runId()),
                new SyncSummary(3, 0, 0, 0));
        ReleaseHealthy healthy = new ReleaseHealthy(RUN, T, id(promoted), GITOPS, REVISION, "shop", "shop", List.of(
                "Deployment/shop"));
        List<ChaosEvent> events = List.of(event(build, Stage.GATEWAY), event(version, Stage.VERSIONER), event(image,
                Stage.IMAGE_BUILDER), event(manifests, Stage.MANIFEST_RENDERER), event(chart, Stage.PROMOTER),
                event(
                        promoted, Stage.PROMOTER),
                event(synced, Stage.FLUX_SYNC), event(healthy, Stage.FLUX_SYNC));
        String trailer = RunTrailer.of(RUN.runId());
        return new ChaosRunFacts(RUN.runId(), Flow.CD, COMMIT, "SHOP-7", true, Duration.ofSeconds(60), events, List.of(
                new ChaosRunFacts.GitTag("v1.2.0", COMMIT, "Release 1.2.0\n\n" + trailer)),
                List.of(
                        "feat: SHOP-7 free shipping", "chore(manifests): render 1.2.0 [skip ci]\n\n" + trailer),
                List.of("chore(shop): promote 1.2.0 to local\n\n" + trailer), Map.of("1.2.0", DIGEST), List.of(
                        slackPost("running"), slackUpdate("deployed"), jiraComment()),
                false);
    }

    static String id(ConveyorEvent e) {
        return CloudEventAttributes.idOf(e);
    }

    static ChaosEvent event(ConveyorEvent e, Stage source) {
        return new ChaosEvent(e.eventType().topic(), 0, 0, T, id(e), source.source(), e);
    }

    private static int clock;

    static ChaosStubRequest stub(String url, String body) {
        clock++;
        return new ChaosStubRequest("req-" + clock, "POST", url, body, T.plusSeconds(clock));
    }

    static ChaosStubRequest slackPost(String status) {
        return stub("/slack/api/chat.postMessage", "{\"channel\":\"#shop\",\"text\":\"⏳ *shop* 1.2.0 " + status
                + "\\n<http://gw/#/runs/" + RUN.runId() + "|Run " + RUN.runId() + ">\"}");
    }

    static ChaosStubRequest slackUpdate(String status) {
        return stub("/slack/api/chat.update", "{\"channel\":\"C1\",\"ts\":\"1.1\",\"text\":\"✅ *shop* 1.2.0 " + status
                + "\\n<http://gw/#/runs/" + RUN.runId() + "|Run " + RUN.runId() + ">\"}");
    }

    static ChaosStubRequest slackReply() {
        return stub("/slack/api/chat.postMessage", "{\"channel\":\"C1\",\"thread_ts\":\"1.1\",\"text\":\"failed:"
                + " flux-sync\\nRun " + RUN.runId() + "\"}");
    }

    static ChaosStubRequest jiraComment() {
        return stub("/jira/rest/api/3/issue/SHOP-7/comment",
                "{\"body\":{\"content\":[{\"text\":\"Run: http://gw/#/runs/"
                        + RUN.runId() + "\"}]}}");
    }

    static List<ChaosInvariants.Rule> rules(UnaryOperator<ChaosRunFacts> breakIt) {
        return ChaosInvariants.check(breakIt.apply(clean())).stream().map(ChaosInvariants.Violation::rule).toList();
    }

    static <T> List<T> plus(List<T> list, T more) {
        List<T> copy = new ArrayList<>(list);
        copy.add(more);
        return copy;
    }

    static ChaosRunFacts with(ChaosRunFacts f, boolean ended, List<ChaosEvent> events, List<ChaosStubRequest> stubs) {
        return new ChaosRunFacts(f.runId(), f.flow(), f.commit(), f.jiraKey(), ended, f.deadline(), events, f.tags(), f
                .appCommitMessages(), f.gitopsCommitMessages(), f.storedDigests(), stubs, f.jiraTransitionConfigured());
    }

    static ChaosRunFacts events(ChaosRunFacts f, List<ChaosEvent> events) {
        return with(f, f.ended(), events, f.stubRequests());
    }

    static ChaosRunFacts stubs(ChaosRunFacts f, List<ChaosStubRequest> stubs) {
        return with(f, f.ended(), f.events(), stubs);
    }

    static ChaosRunFacts tags(ChaosRunFacts f, List<ChaosRunFacts.GitTag> tags) {
        return new ChaosRunFacts(f.runId(), f.flow(), f.commit(), f.jiraKey(), f.ended(), f.deadline(), f.events(),
                tags, f.appCommitMessages(), f.gitopsCommitMessages(), f.storedDigests(), f.stubRequests(), f
                        .jiraTransitionConfigured());
    }

    static ChaosRunFacts commits(ChaosRunFacts f, List<String> app, List<String> gitops) {
        return new ChaosRunFacts(f.runId(), f.flow(), f.commit(), f.jiraKey(), f.ended(), f.deadline(), f.events(), f
                .tags(), app, gitops, f.storedDigests(), f.stubRequests(), f.jiraTransitionConfigured());
    }
}
