package dev.conveyor.notifier.domain;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * Everything the notifier knows about one run, folded from its events in whatever order they arrive, and what it has
 * already told people about it. Persisted in the state journal, so it is a plain mutable bean; {@link #copy()} before
 * changing a stored one.
 * <p>
 * Three kinds of fields: the run's facts, which any order of its events folds to the same values (collections are kept
 * in a canonical order, not arrival order); the current attempt's statuses, failures and health, which a higher
 * attempt starts afresh; and the record of what was announced ({@link #posted}, {@link #announced}), so that a notice
 * is given once and one that waits for facts is given when they arrive. A run only named by a {@code RepoSynced} of
 * another run is a placeholder ({@link #identified()} is false) until one of its own events arrives.
 */
@RegisterForReflection
public final class RunState {

    public String runId;
    /** The highest attempt seen; 0 for a placeholder. */
    public int attempt;
    public String app;
    public String repoUrl;
    public String commit;
    public String branch;
    public Integer pullRequest;
    public Flow flow;
    public String buildUrl;
    public String pullRequestTitle;
    /** The build hook's test and lint counts as shown ({@code 9 tests passed, ...}); null when it sent none. */
    public String checks;
    public String version;
    public String tag;
    public String imageRepository;
    public String imageDigest;
    public String chartName;
    public String chartVersion;
    public String diff;
    public Integer objectCount;
    public Integer warnings;
    /** The current attempt's release health: {@code healthy}, or {@code degraded} once any release degraded. */
    public String health;
    /** From the app's {@code .conveyor.yaml} {@code notify.slack.channel}, read once per run. */
    public String slackChannel;
    /** From the app's {@code .conveyor.yaml} {@code notify.jira.project}. */
    public String jiraProject;
    public List<String> changes = new ArrayList<>();
    /** The current attempt's stage states, in pipeline order. */
    @JsonDeserialize(as = LinkedHashMap.class)
    public Map<String, StatusState> stages = new LinkedHashMap<>();
    /** The current attempt's failures, in pipeline order. */
    public List<Failure> failures = new ArrayList<>();
    /** Promotions of the run (one per GitOps repository and environment), sorted; revision set once synced. */
    public List<Deployment> deployments = new ArrayList<>();
    /** GitOps repositories whose applied revision contains the run, with that revision (first seen). */
    @JsonDeserialize(as = LinkedHashMap.class)
    public Map<String, String> syncs = new LinkedHashMap<>();
    /** Sorted. */
    @JsonDeserialize(as = LinkedHashSet.class)
    public Set<String> jiraKeys = new LinkedHashSet<>();
    /** Kinds of the run's events seen in any attempt ({@code build-succeeded}, ...): what the facts are made of. */
    @JsonDeserialize(as = LinkedHashSet.class)
    public Set<String> seen = new LinkedHashSet<>();
    /** What the current attempt has done that later events depend on ({@code promoted:<gitops repo>}). */
    @JsonDeserialize(as = LinkedHashSet.class)
    public Set<String> attemptSeen = new LinkedHashSet<>();
    /** The commit status last announced per stage; {@code null} in a state journalled before it existed. */
    @JsonDeserialize(as = LinkedHashMap.class)
    public Map<String, StatusState> posted;
    /**
     * Notices given once: {@code summary} (the first summary), {@code deployed:<repo> <environment>},
     * {@code ended:<attempt>}; {@code null} in a state journalled before it existed.
     */
    @JsonDeserialize(as = LinkedHashSet.class)
    public Set<String> announced;
    public Instant updatedAt;

    /** A run whose own event is in hand. */
    public static RunState start(PipelineRun run, Instant at) {
        RunState s = placeholder(run.runId(), at);
        s.identify(run);
        s.attempt = run.attempt();
        return s;
    }

    /** A run known only by its id (a {@code RepoSynced} listed it before any of its own events arrived). */
    public static RunState placeholder(String runId, Instant at) {
        RunState s = new RunState();
        s.runId = runId;
        s.posted = new LinkedHashMap<>();
        s.announced = new LinkedHashSet<>();
        s.updatedAt = at;
        return s;
    }

    /** Fills in who the run is from one of its events; the attempt is the folding's business. */
    void identify(PipelineRun run) {
        if (identified()) {
            return;
        }
        app = run.app();
        repoUrl = run.repoUrl();
        commit = run.commit();
        branch = run.branch();
        pullRequest = run.pullRequest();
        flow = run.flow();
    }

    /** Whether one of the run's own events has been seen (else only its id is known and nothing can be rendered). */
    public boolean identified() {
        return app != null;
    }

    public RunState copy() {
        RunState s = new RunState();
        s.runId = runId;
        s.attempt = attempt;
        s.app = app;
        s.repoUrl = repoUrl;
        s.commit = commit;
        s.branch = branch;
        s.pullRequest = pullRequest;
        s.flow = flow;
        s.buildUrl = buildUrl;
        s.pullRequestTitle = pullRequestTitle;
        s.checks = checks;
        s.version = version;
        s.tag = tag;
        s.imageRepository = imageRepository;
        s.imageDigest = imageDigest;
        s.chartName = chartName;
        s.chartVersion = chartVersion;
        s.diff = diff;
        s.objectCount = objectCount;
        s.warnings = warnings;
        s.health = health;
        s.slackChannel = slackChannel;
        s.jiraProject = jiraProject;
        s.changes = new ArrayList<>(changes);
        s.stages = new LinkedHashMap<>(stages);
        s.failures = new ArrayList<>(failures);
        s.deployments = new ArrayList<>(deployments);
        s.syncs = new LinkedHashMap<>(syncs);
        s.jiraKeys = new LinkedHashSet<>(jiraKeys);
        s.seen = new LinkedHashSet<>(seen);
        s.attemptSeen = new LinkedHashSet<>(attemptSeen);
        // a state from an older journal: what it shows was announced when it was folded
        s.posted = posted == null ? new LinkedHashMap<>(stages) : new LinkedHashMap<>(posted);
        s.announced = announced == null ? legacyAnnounced() : new LinkedHashSet<>(announced);
        s.updatedAt = updatedAt;
        return s;
    }

    private Set<String> legacyAnnounced() {
        Set<String> done = new LinkedHashSet<>();
        done.add(Planner.SUMMARY);
        deployments.stream().filter(Deployment::synced).forEach(d -> done.add(Planner.deployedKey(d)));
        return done;
    }

    public boolean failed() {
        return !failures.isEmpty();
    }

    /**
     * The deployments to show: each promotion with its sync, and a repository synced with the run whose promotion was
     * not seen (the sync alone says the run is deployed there), sorted.
     */
    public List<Deployment> shownDeployments() {
        List<Deployment> shown = new ArrayList<>();
        for (Deployment d : deployments) {
            String rev = syncs.get(d.gitopsRepo());
            shown.add(d.synced() || rev == null ? d : d.syncedAt(rev));
        }
        syncs.forEach((repo, rev) -> {
            if (deployments.stream().noneMatch(d -> d.gitopsRepo().equals(repo))) {
                shown.add(new Deployment(repo, repo, "", "", chartVersion == null ? "" : chartVersion, rev));
            }
        });
        shown.sort(Comparator.comparing(Deployment::gitopsRepo).thenComparing(Deployment::environment));
        return shown;
    }

    /** Everything a summary (PR comment, Slack message) shows: when it changes, the summary is rendered again. */
    List<Object> summary() {
        return Arrays.asList(app, attempt, flow, commit, branch, pullRequest, buildUrl, pullRequestTitle, checks,
                version,
                tag, imageRepository, imageDigest, chartName, chartVersion, diff, objectCount, warnings, health,
                stages.entrySet().stream().map(e -> Map.entry(e.getKey(), e.getValue())).toList(),
                List.copyOf(failures), shownDeployments(), List.copyOf(jiraKeys));
    }
}
