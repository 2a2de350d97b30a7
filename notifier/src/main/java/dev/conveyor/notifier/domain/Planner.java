package dev.conveyor.notifier.domain;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

import dev.conveyor.events.v1.BuildFailed;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.ChartPublished;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.ReleaseDegraded;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.events.v1.StageFailed;
import dev.conveyor.events.v1.VersionResolved;

/**
 * Folds one event into the state of the run(s) it is about and says what changed. Pure: no I/O, no clock. Events may
 * arrive in any order (each topic is its own channel), so a finished stage never goes back to pending within one
 * attempt, and a replay (higher attempt) starts the run's statuses and failures afresh.
 */
public final class Planner {

    public static final String BUILD = "build";
    public static final String VERSIONER = "versioner";
    public static final String IMAGE_BUILDER = "image-builder";
    public static final String MANIFEST_RENDERER = "manifest-renderer";
    public static final String PROMOTER = "promoter";
    public static final String FLUX_SYNC = "flux-sync";

    private final Set<String> jiraProjects;

    /** @param jiraProjects JIRA project keys to recognise; empty recognises any key-shaped token */
    public Planner(Set<String> jiraProjects) {
        this.jiraProjects = Set.copyOf(jiraProjects);
    }

    /**
     * @param event the event
     * @param known the stored state of a run by id, if any
     * @param now when the event is handled
     * @return the changed runs; empty when the event concerns no run the notifier knows (a sync of unknown runs)
     */
    public List<RunChange> apply(ConveyorEvent event, Function<String, Optional<RunState>> known, Instant now) {
        if (event instanceof RepoSynced synced) {
            return synced(synced, known, now);
        }
        RunState s = known.apply(event.run().runId()).map(RunState::copy)
                .orElseGet(() -> RunState.start(event.run(), now));
        List<Notice> notices = new ArrayList<>();
        if (event.run().attempt() > s.attempt) {
            s.attempt = event.run().attempt();
            s.stages.clear();
            s.failures.clear();
            s.health = null;
        }
        s.updatedAt = now;
        if (event instanceof BuildSucceeded b) {
            s.buildUrl = b.buildUrl();
            s.pullRequestTitle = b.pullRequestTitle();
            keys(s, branchText(s, b.run().branch()));
            keys(s, b.pullRequestTitle());
            status(s, notices, BUILD, StatusState.SUCCESS);
            status(s, notices, VERSIONER, StatusState.PENDING);
        } else if (event instanceof BuildFailed f) {
            s.buildUrl = f.buildUrl();
            s.pullRequestTitle = f.pullRequestTitle();
            keys(s, branchText(s, f.run().branch()));
            keys(s, f.pullRequestTitle());
            status(s, notices, BUILD, StatusState.FAILURE);
            failure(s, notices, new Failure(BUILD, f.failedStep(), f.reason()));
        } else if (event instanceof VersionResolved v) {
            s.version = v.version();
            s.tag = v.tag();
            s.changes = new ArrayList<>(v.changes());
            v.changes().forEach(c -> keys(s, c));
            status(s, notices, VERSIONER, StatusState.SUCCESS);
            status(s, notices, IMAGE_BUILDER, StatusState.PENDING);
        } else if (event instanceof ImagePushed i) {
            s.version = i.version();
            s.imageRepository = i.repository();
            s.imageDigest = i.digest();
            status(s, notices, IMAGE_BUILDER, StatusState.SUCCESS);
            status(s, notices, MANIFEST_RENDERER, StatusState.PENDING);
        } else if (event instanceof ManifestsValidated m) {
            s.version = m.version();
            s.imageRepository = m.imageRepository();
            s.imageDigest = m.imageDigest();
            s.chartName = m.chartName();
            s.diff = m.diff();
            s.objectCount = m.objectCount();
            s.warnings = m.warnings();
            status(s, notices, MANIFEST_RENDERER, StatusState.SUCCESS);
            if (m.run().flow() == Flow.CD) {
                status(s, notices, PROMOTER, StatusState.PENDING);
            }
        } else if (event instanceof ChartPublished c) {
            s.chartName = c.chartName();
            s.chartVersion = c.chartVersion();
        } else if (event instanceof ReleasePromoted r) {
            s.chartName = r.chartName();
            s.chartVersion = r.chartVersion();
            s.deployments.removeIf(d -> d.gitopsRepo().equals(r.gitopsRepo()) && !d.synced()
                    && d.environment().equals(r.environment()));
            s.deployments.add(new Deployment(r.gitopsRepo(), r.environment(), r.namespace(), r.release(),
                    r.chartVersion(), null));
            status(s, notices, PROMOTER, StatusState.SUCCESS);
            status(s, notices, FLUX_SYNC, StatusState.PENDING);
        } else if (event instanceof ReleaseHealthy) {
            s.health = "healthy";
        } else if (event instanceof ReleaseDegraded d) {
            s.health = "degraded";
            status(s, notices, FLUX_SYNC, StatusState.FAILURE);
            failure(s, notices, new Failure(FLUX_SYNC, d.reason(), d.message()));
        } else if (event instanceof StageFailed f) {
            status(s, notices, f.stage().id(), StatusState.FAILURE);
            failure(s, notices, new Failure(f.stage().id(), f.reason(), f.message()));
        }
        // the summary first, then the failures: a Slack thread reply follows the updated message
        List<Notice> failures = notices.stream().filter(n -> n instanceof Notice.FailureSeen).toList();
        notices.removeAll(failures);
        notices.add(new Notice.SummaryChanged());
        notices.addAll(failures);
        boolean end = event instanceof ManifestsValidated && event.run().flow() == Flow.CI;
        if (end || notices.stream().anyMatch(n -> n instanceof Notice.FailureSeen)) {
            notices.add(new Notice.Milestone());
        }
        return List.of(new RunChange(s, List.copyOf(notices)));
    }

    private List<RunChange> synced(RepoSynced synced, Function<String, Optional<RunState>> known, Instant now) {
        List<RunChange> changes = new ArrayList<>();
        for (String runId : synced.runIds()) {
            Optional<RunState> stored = known.apply(runId);
            if (stored.isEmpty()) {
                continue;
            }
            RunState s = stored.get().copy();
            List<Notice> notices = new ArrayList<>();
            boolean any = false;
            for (int i = 0; i < s.deployments.size(); i++) {
                Deployment d = s.deployments.get(i);
                if (d.gitopsRepo().equals(synced.gitopsRepo()) && !d.synced()) {
                    Deployment done = d.syncedAt(synced.revision());
                    s.deployments.set(i, done);
                    notices.add(new Notice.Deployed(done));
                    any = true;
                }
            }
            boolean seenBefore = s.deployments.stream().anyMatch(d -> d.gitopsRepo().equals(synced.gitopsRepo()));
            if (!any && !seenBefore) {
                // the promotion event was never seen: the sync alone still says the run is deployed
                Deployment done = new Deployment(synced.gitopsRepo(), synced.gitopsRepo(), "", "",
                        s.chartVersion == null ? "" : s.chartVersion, synced.revision());
                s.deployments.add(done);
                notices.add(new Notice.Deployed(done));
                any = true;
            }
            if (!any) {
                continue;
            }
            s.updatedAt = now;
            status(s, notices, FLUX_SYNC, StatusState.SUCCESS);
            notices.add(new Notice.SummaryChanged());
            notices.add(new Notice.Milestone());
            changes.add(new RunChange(s, List.copyOf(notices)));
        }
        return changes;
    }

    private String branchText(RunState s, String branch) {
        // branch names are often lower case (feature/shop-12-cart); only trusted with a project list
        return projects(s).isEmpty() ? branch : branch.toUpperCase(Locale.ROOT);
    }

    private void keys(RunState s, String text) {
        s.jiraKeys.addAll(JiraKeys.in(text, projects(s)));
    }

    /** The app's own project from {@code .conveyor.yaml}, else the platform's list. */
    private Set<String> projects(RunState s) {
        return s.jiraProject != null ? Set.of(s.jiraProject) : jiraProjects;
    }

    private static void status(RunState s, List<Notice> notices, String stage, StatusState state) {
        StatusState current = s.stages.get(stage);
        if (current == state || (state == StatusState.PENDING && current != null && current.finished())) {
            return;
        }
        s.stages.put(stage, state);
        notices.add(new Notice.StatusChanged(stage, state));
    }

    private static void failure(RunState s, List<Notice> notices, Failure failure) {
        if (!s.failures.contains(failure)) {
            s.failures.add(failure);
            notices.add(new Notice.FailureSeen(failure));
        }
    }
}
