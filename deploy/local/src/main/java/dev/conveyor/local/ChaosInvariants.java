package dev.conveyor.local;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.conveyor.events.v1.BuildFailed;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.ReleaseDegraded;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.events.v1.RunTrailer;
import dev.conveyor.events.v1.StageFailed;
import dev.conveyor.events.v1.VersionResolved;

/**
 * The invariants every run must keep however its processes die, checked on the facts alone ({@link ChaosRunFacts}).
 * Events are counted by CloudEvents id: two records with one id are one event delivered twice (allowed); one event
 * identity (type, run, attempt, discriminator) under two ids is a violation of its own.
 */
public final class ChaosInvariants {

    /** The invariants, by the name a violation reports. */
    public enum Rule {
        /** RepoSynced + ReleaseHealthy/Degraded (CD) or a StageFailed/BuildFailed within the deadline. */
        TERMINAL,
        /** Exactly one version tag on the commit in CD (none in CI), each with its VersionResolved. */
        VERSION_TAG,
        /** A tag of the run (on its commit or naming it in its trailer) without a VersionResolved naming it. */
        TAG_WITHOUT_VERSION,
        /** One image digest per version: in the events and in the image store. */
        IMAGE_DIGEST,
        /** At most one manifests commit with the run's Conveyor-Run trailer. */
        MANIFESTS_COMMIT,
        /** Exactly one GitOps commit with the run's trailer (once promoted; at most one otherwise). */
        GITOPS_COMMIT,
        /** Exactly one RepoSynced listing the run in runIds. */
        REPO_SYNCED,
        /** Exactly one ReleaseHealthy or ReleaseDegraded for the run. */
        RELEASE_HEALTH,
        /** Exactly one Slack message (chat.postMessage without thread_ts) for the run. */
        SLACK_MESSAGE,
        /** The run's Slack message, last posted or updated, shows the run's final state. */
        SLACK_FINAL_STATE,
        /** Exactly one JIRA comment for a deployed run (none otherwise). */
        JIRA_COMMENT,
        /** Exactly one JIRA transition for a deployed run when configured (none otherwise). */
        JIRA_TRANSITION,
        /** Two records of one event (type, run, attempt, discriminator) with different CloudEvents ids. */
        DUPLICATE_EVENT,
        /** {@code ./conveyor up} after the kill failed or left a process dead (reported by the suite). */
        RECOVERY
    }

    /** One broken invariant of one run. */
    public record Violation(Rule rule, String detail) {
        @Override
        public String toString() {
            return rule + ": " + detail;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern STATUS = Pattern.compile("\\b(running|succeeded|deployed|failed)\\b");

    private ChaosInvariants() {
    }

    /** Every invariant the run breaks; empty when it keeps them all. */
    public static List<Violation> check(ChaosRunFacts f) {
        List<Violation> v = new ArrayList<>();
        String run = f.runId();
        List<ChaosEvent> own = f.events().stream().filter(e -> e.event().run().runId().equals(run)).toList();
        List<ChaosEvent> naming = f.events().stream().filter(e -> e.namesRun(run)).toList();

        boolean failed = own.stream()
                .anyMatch(e -> e.event() instanceof StageFailed || e.event() instanceof BuildFailed);
        Map<String, ChaosEvent> synced = distinct(
                naming.stream().filter(e -> e.event() instanceof RepoSynced).toList());
        Map<String, ChaosEvent> health = distinct(own.stream().filter(ChaosEvent::isHealth).toList());
        Map<String, ChaosEvent> versions = distinct(own.stream().filter(e -> e.event() instanceof VersionResolved)
                .toList());
        Map<String, ChaosEvent> promoted = distinct(own.stream().filter(e -> e.event() instanceof ReleasePromoted)
                .toList());
        boolean cd = f.flow() == Flow.CD;

        // The run ends.
        boolean terminal = failed || (cd
                ? !synced.isEmpty() && !health.isEmpty()
                : !distinct(own.stream().filter(
                        e -> e.event() instanceof dev.conveyor.events.v1.ManifestsValidated).toList()).isEmpty());
        if (!f.ended() || !terminal) {
            v.add(new Violation(Rule.TERMINAL, "no terminal state within " + f.deadline().toSeconds() + " s; events: "
                    + own.stream().map(ChaosEvent::name).distinct().toList()));
        }

        // Tags.
        Set<String> resolvedTags = versions.values().stream().map(e -> ((VersionResolved) e.event()).tag()).filter(
                t -> t != null).collect(Collectors.toCollection(LinkedHashSet::new));
        List<ChaosRunFacts.GitTag> onCommit = f.tags().stream().filter(t -> t.commitId().equals(f.commit())).toList();
        if (cd && !versions.isEmpty() && onCommit.size() != 1) {
            v.add(new Violation(Rule.VERSION_TAG, onCommit.size() + " version tags on commit " + Pipeline.abbrev(f
                    .commit()) + " " + onCommit.stream().map(ChaosRunFacts.GitTag::name).toList()));
        }
        if (!cd && !onCommit.isEmpty()) {
            v.add(new Violation(Rule.VERSION_TAG, "CI run tagged its commit: " + onCommit.stream().map(
                    ChaosRunFacts.GitTag::name).toList()));
        }
        if (resolvedTags.size() > 1) {
            v.add(new Violation(Rule.VERSION_TAG, "VersionResolved events name " + resolvedTags.size() + " tags "
                    + resolvedTags));
        }
        Set<ChaosRunFacts.GitTag> mine = new LinkedHashSet<>(onCommit);
        f.tags().stream().filter(t -> RunTrailer.parse(t.message()).contains(run)).forEach(mine::add);
        for (ChaosRunFacts.GitTag t : mine) {
            if (!resolvedTags.contains(t.name())) {
                v.add(new Violation(Rule.TAG_WITHOUT_VERSION,
                        "tag " + t.name() + " has no VersionResolved of the run"));
            }
        }

        // Images.
        Map<String, Set<String>> digests = new LinkedHashMap<>();
        distinct(own.stream().filter(e -> e.event() instanceof ImagePushed).toList()).values().forEach(e -> {
            ImagePushed p = (ImagePushed) e.event();
            digests.computeIfAbsent(p.version(), k -> new LinkedHashSet<>()).add(p.digest());
        });
        digests.forEach((version, ds) -> {
            if (ds.size() > 1) {
                v.add(new Violation(Rule.IMAGE_DIGEST, "version " + version + " pushed as " + ds.size() + " digests "
                        + ds));
            }
            String stored = f.storedDigests().get(version);
            if (stored != null && !ds.contains(stored)) {
                v.add(new Violation(Rule.IMAGE_DIGEST, "image store has " + version + " as " + stored
                        + ", ImagePushed says " + ds));
            }
        });

        // Commits with the run's trailer.
        long manifests = f.appCommitMessages().stream().filter(m -> RunTrailer.parse(m).contains(run)).count();
        if (manifests > 1 || !cd && manifests > 0) {
            v.add(new Violation(Rule.MANIFESTS_COMMIT, manifests + " manifests commits carry the run's trailer"));
        }
        long gitops = f.gitopsCommitMessages().stream().filter(m -> RunTrailer.parse(m).contains(run)).count();
        boolean gitopsExpected = cd && (!promoted.isEmpty() || !synced.isEmpty());
        if (gitopsExpected ? gitops != 1 : gitops > (cd ? 1 : 0)) {
            v.add(new Violation(Rule.GITOPS_COMMIT, gitops + " GitOps commits carry the run's trailer"));
        }

        // The cluster.
        boolean deployExpected = cd && f.ended() && !failed;
        if (deployExpected ? synced.size() != 1 : synced.size() > (cd ? 1 : 0)) {
            v.add(new Violation(Rule.REPO_SYNCED, synced.size() + " RepoSynced list the run" + revisions(synced)));
        }
        if (cd && !synced.isEmpty() ? health.size() != 1 : health.size() > 1) {
            v.add(new Violation(Rule.RELEASE_HEALTH, health.size() + " ReleaseHealthy/ReleaseDegraded for the run "
                    + health.values().stream().map(ChaosEvent::name).toList()));
        }

        // Notifications.
        List<ChaosStubRequest> slack = f.stubRequests().stream().filter(r -> (r.isSlackPost() || r.isSlackUpdate())
                && r.mentions(run)).toList();
        List<ChaosStubRequest> posts = slack.stream().filter(r -> r.isSlackPost() && !json(r).has("thread_ts"))
                .toList();
        if (posts.size() != 1) {
            v.add(new Violation(Rule.SLACK_MESSAGE, posts.size() + " Slack messages (chat.postMessage without"
                    + " thread_ts) for the run"));
        }
        if (f.ended() && terminal) {
            boolean bad = failed || health.values().stream().anyMatch(e -> e.event() instanceof ReleaseDegraded);
            String expected = bad ? "failed" : cd ? "deployed" : "succeeded";
            Optional<ChaosStubRequest> last = slack.stream().filter(r -> !json(r).has("thread_ts")).max(
                    java.util.Comparator.comparing(ChaosStubRequest::loggedAt));
            String shown = last.map(r -> status(json(r).path("text").asText(""))).orElse("nothing");
            if (!expected.equals(shown)) {
                v.add(new Violation(Rule.SLACK_FINAL_STATE, "the Slack message ends as '" + shown + "', the run as '"
                        + expected + "'"));
            }
        }
        boolean deployed = cd && !synced.isEmpty();
        long comments = f.stubRequests().stream().filter(r -> r.isJiraComment() && r.mentions(run)).count();
        if (f.jiraKey() != null && (deployed ? comments != 1 : comments != 0)) {
            v.add(new Violation(Rule.JIRA_COMMENT, comments + " JIRA comments for the run" + (deployed
                    ? ""
                    : " (not deployed)")));
        }
        if (f.jiraKey() != null) {
            long transitions = f.stubRequests().stream().filter(r -> r.isJiraTransition(f.jiraKey())).count();
            long expected = deployed && f.jiraTransitionConfigured() ? 1 : 0;
            if (transitions != expected) {
                v.add(new Violation(Rule.JIRA_TRANSITION, transitions + " JIRA transitions of " + f.jiraKey()
                        + ", expected " + expected));
            }
        }

        // One id per event.
        Map<String, Set<String>> ids = new LinkedHashMap<>();
        for (ChaosEvent e : own) {
            ids.computeIfAbsent(e.identity(), k -> new LinkedHashSet<>()).add(e.ceId());
        }
        ids.forEach((identity, set) -> {
            if (set.size() > 1) {
                v.add(new Violation(Rule.DUPLICATE_EVENT, identity + " under " + set.size() + " ids"));
            }
        });
        return v;
    }

    /** Records by CloudEvents id: a record delivered twice counts once. */
    private static Map<String, ChaosEvent> distinct(List<ChaosEvent> events) {
        Map<String, ChaosEvent> byId = new LinkedHashMap<>();
        events.forEach(e -> byId.putIfAbsent(e.ceId(), e));
        return byId;
    }

    private static String revisions(Map<String, ChaosEvent> synced) {
        return synced.isEmpty()
                ? ""
                : " (revisions " + synced.values().stream().map(e -> Pipeline.abbrev(((RepoSynced) e.event())
                        .revision())).toList() + ")";
    }

    private static JsonNode json(ChaosStubRequest r) {
        try {
            return JSON.readTree(r.body() == null ? "{}" : r.body());
        } catch (java.io.IOException e) {
            return JSON.createObjectNode();
        }
    }

    /** The status word of a Slack message's first line ({@code ✅ *shop* 1.2.0 deployed}). */
    static String status(String text) {
        String first = text.lines().findFirst().orElse("");
        Matcher m = STATUS.matcher(first);
        return m.find() ? m.group(1) : "unknown";
    }

    /** Whether the run is healthy in the end (for the output line). */
    static String outcome(List<ChaosEvent> events, String runId) {
        List<ChaosEvent> own = events.stream().filter(e -> e.event().run().runId().equals(runId)).toList();
        Optional<ChaosEvent> failed = own.stream().filter(e -> e.event() instanceof StageFailed).findFirst();
        if (failed.isPresent()) {
            StageFailed s = (StageFailed) failed.get().event();
            return "StageFailed(" + s.stage().id() + ", " + s.reason() + ")";
        }
        if (own.stream().anyMatch(e -> e.event() instanceof BuildFailed)) {
            return "BuildFailed";
        }
        boolean synced = events.stream().anyMatch(e -> e.event() instanceof RepoSynced && e.namesRun(runId));
        if (own.stream().anyMatch(e -> e.event() instanceof ReleaseDegraded)) {
            return synced ? "synced+degraded" : "degraded";
        }
        if (own.stream().anyMatch(e -> e.event() instanceof ReleaseHealthy)) {
            return synced ? "synced+healthy" : "healthy, not synced";
        }
        return synced ? "synced, no health" : "not ended";
    }
}
