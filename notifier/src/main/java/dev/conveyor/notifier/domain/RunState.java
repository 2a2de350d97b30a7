package dev.conveyor.notifier.domain;

import java.time.Instant;
import java.util.ArrayList;
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
 * Everything the notifier knows about one run, folded from its events in whatever order they arrive. Persisted in the
 * state journal, so it is a plain mutable bean; {@link #copy()} before changing a stored one.
 */
@RegisterForReflection
public final class RunState {

    public String runId;
    public int attempt;
    public String app;
    public String repoUrl;
    public String commit;
    public String branch;
    public Integer pullRequest;
    public Flow flow;
    public String buildUrl;
    public String pullRequestTitle;
    public String version;
    public String tag;
    public String imageRepository;
    public String imageDigest;
    public String chartName;
    public String chartVersion;
    public String diff;
    public Integer objectCount;
    public Integer warnings;
    public String health;
    /** From the app's {@code .conveyor.yaml} {@code notify.slack.channel}, read once per run. */
    public String slackChannel;
    /** From the app's {@code .conveyor.yaml} {@code notify.jira.project}. */
    public String jiraProject;
    public List<String> changes = new ArrayList<>();
    @JsonDeserialize(as = LinkedHashMap.class)
    public Map<String, StatusState> stages = new LinkedHashMap<>();
    public List<Failure> failures = new ArrayList<>();
    public List<Deployment> deployments = new ArrayList<>();
    @JsonDeserialize(as = LinkedHashSet.class)
    public Set<String> jiraKeys = new LinkedHashSet<>();
    public Instant updatedAt;

    public static RunState start(PipelineRun run, Instant at) {
        RunState s = new RunState();
        s.runId = run.runId();
        s.attempt = run.attempt();
        s.app = run.app();
        s.repoUrl = run.repoUrl();
        s.commit = run.commit();
        s.branch = run.branch();
        s.pullRequest = run.pullRequest();
        s.flow = run.flow();
        s.updatedAt = at;
        return s;
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
        s.jiraKeys = new LinkedHashSet<>(jiraKeys);
        s.updatedAt = updatedAt;
        return s;
    }

    public boolean failed() {
        return !failures.isEmpty();
    }
}
