package dev.conveyor.notifier.domain;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
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
import dev.conveyor.events.v1.TestSummary;
import dev.conveyor.events.v1.VersionResolved;

/**
 * Folds one event into the state of the run(s) it is about and says what there is to tell. Pure: no I/O, no clock.
 * <p>
 * No order across topics is assumed, so the result does not depend on the order a run's events arrive in. The fold is
 * order-free: within an attempt a stage's state only moves up (pending, then success, then failure), failures, keys and
 * deployments are sets kept sorted, and a fact a stale attempt brings only fills a gap. The notices are then the
 * difference between that state and what was already announced: a status when a stage's state differs from the one
 * posted, a summary when what it shows changed, a failure once, and a deployment ({@code JIRA}) once the run is synced
 * into a GitOps repository <em>and</em> its build, version, image, manifests and promotion there are all known — a
 * {@code RepoSynced} that arrives first is kept and announced when the last of them arrives. A higher attempt starts the
 * statuses, failures and health afresh; an event of a lower attempt never changes them.
 */
public final class Planner {

    public static final String BUILD = "build";
    public static final String VERSIONER = "versioner";
    public static final String IMAGE_BUILDER = "image-builder";
    public static final String MANIFEST_RENDERER = "manifest-renderer";
    public static final String PROMOTER = "promoter";
    public static final String FLUX_SYNC = "flux-sync";

    /** {@link RunState#announced}: the run's first summary. */
    static final String SUMMARY = "summary";
    private static final List<String> PIPELINE = List.of(BUILD, VERSIONER, IMAGE_BUILDER, MANIFEST_RENDERER, PROMOTER,
            FLUX_SYNC);
    private static final List<String> CI_STAGES = PIPELINE.subList(0, 4);
    /** Event kinds ({@link RunState#seen}) a deployment announcement needs: the JIRA comment shows their facts. */
    private static final List<String> DEPLOY_FACTS = List.of("build-succeeded", "version-resolved", "image-pushed",
            "manifests-validated");
    private static final Comparator<String> STAGE_ORDER = Comparator
            .comparingInt((String stage) -> PIPELINE.contains(stage) ? PIPELINE.indexOf(stage) : PIPELINE.size())
            .thenComparing(Comparator.naturalOrder());
    private static final Comparator<Failure> FAILURE_ORDER = Comparator.comparing(Failure::stage, STAGE_ORDER)
            .thenComparing(Failure::reason, Comparator.nullsFirst(Comparator.naturalOrder()))
            .thenComparing(Failure::message, Comparator.nullsFirst(Comparator.naturalOrder()));

    private final Set<String> jiraProjects;

    /** @param jiraProjects JIRA project keys to recognise; empty recognises any key-shaped token */
    public Planner(Set<String> jiraProjects) {
        this.jiraProjects = Set.copyOf(jiraProjects);
    }

    /**
     * @param event the event
     * @param known the stored state of a run by id, if any
     * @param now when the event is handled
     * @return one change per run the event is about (a {@code RepoSynced}: every run it lists, known or not yet)
     */
    public List<RunChange> apply(ConveyorEvent event, Function<String, Optional<RunState>> known, Instant now) {
        List<String> runIds = event instanceof RepoSynced synced
                ? synced.runIds().stream().distinct().toList()
                : List.of(event.run().runId());
        List<RunChange> changes = new ArrayList<>();
        for (String runId : runIds) {
            RunState s = known.apply(runId).map(RunState::copy).orElseGet(() -> RunState.placeholder(runId, now));
            List<Object> shown = s.summary();
            List<Failure> newFailures = fold(s, event);
            s.updatedAt = now;
            changes.add(new RunChange(s, s.identified() ? announce(s, shown, newFailures) : List.of()));
        }
        return changes;
    }

    /** Folds the event into the run's state; returns the failures it added. */
    private List<Failure> fold(RunState s, ConveyorEvent event) {
        boolean own = event.run().runId().equals(s.runId);
        if (own) {
            s.identify(event.run());
        }
        // a RepoSynced says nothing of the attempt of the other runs it lists: it counts for their current one
        boolean stale = own && stale(s, event.run().attempt());
        Folding f = new Folding(s, stale);
        if (event instanceof BuildSucceeded b) {
            f.seen("build-succeeded");
            buildFacts(s, b.buildUrl(), b.pullRequestTitle(), b.tests(), b.run().branch(), stale);
            f.status(BUILD, StatusState.SUCCESS);
            f.status(VERSIONER, StatusState.PENDING);
        } else if (event instanceof BuildFailed b) {
            f.seen("build-failed");
            buildFacts(s, b.buildUrl(), b.pullRequestTitle(), b.tests(), b.run().branch(), stale);
            f.status(BUILD, StatusState.FAILURE);
            f.failure(new Failure(BUILD, b.failedStep(), b.reason()));
        } else if (event instanceof VersionResolved v) {
            f.seen("version-resolved");
            s.version = fact(s.version, v.version(), stale);
            s.tag = fact(s.tag, v.tag(), stale);
            if (!v.changes().isEmpty() && (!stale || s.changes.isEmpty())) {
                s.changes = new ArrayList<>(v.changes());
            }
            v.changes().forEach(c -> keys(s, c));
            f.status(VERSIONER, StatusState.SUCCESS);
            f.status(IMAGE_BUILDER, StatusState.PENDING);
        } else if (event instanceof ImagePushed i) {
            f.seen("image-pushed");
            s.version = fact(s.version, i.version(), stale);
            s.imageRepository = fact(s.imageRepository, i.repository(), stale);
            s.imageDigest = fact(s.imageDigest, i.digest(), stale);
            f.status(IMAGE_BUILDER, StatusState.SUCCESS);
            f.status(MANIFEST_RENDERER, StatusState.PENDING);
        } else if (event instanceof ManifestsValidated m) {
            f.seen("manifests-validated");
            s.version = fact(s.version, m.version(), stale);
            s.imageRepository = fact(s.imageRepository, m.imageRepository(), stale);
            s.imageDigest = fact(s.imageDigest, m.imageDigest(), stale);
            s.chartName = fact(s.chartName, m.chartName(), stale);
            s.diff = fact(s.diff, m.diff(), stale);
            s.objectCount = fact(s.objectCount, m.objectCount(), stale);
            s.warnings = fact(s.warnings, m.warnings(), stale);
            f.status(MANIFEST_RENDERER, StatusState.SUCCESS);
            if (m.run().flow() == Flow.CD) {
                f.status(PROMOTER, StatusState.PENDING);
            }
        } else if (event instanceof ChartPublished c) {
            f.seen("chart-published");
            s.chartName = fact(s.chartName, c.chartName(), stale);
            s.chartVersion = fact(s.chartVersion, c.chartVersion(), stale);
        } else if (event instanceof ReleasePromoted r) {
            f.seen("release-promoted");
            s.chartName = fact(s.chartName, r.chartName(), stale);
            s.chartVersion = fact(s.chartVersion, r.chartVersion(), stale);
            promoted(s, new Deployment(r.gitopsRepo(), r.environment(), r.namespace(), r.release(),
                    r.chartVersion(), null), stale);
            f.attempt("promoted:" + r.gitopsRepo());
            f.status(PROMOTER, StatusState.SUCCESS);
            f.status(FLUX_SYNC, s.syncs.containsKey(r.gitopsRepo()) ? StatusState.SUCCESS : StatusState.PENDING);
        } else if (event instanceof RepoSynced r) {
            s.syncs.putIfAbsent(r.gitopsRepo(), r.revision());
            if (own || s.attemptSeen.contains("promoted:" + r.gitopsRepo())) {
                f.status(FLUX_SYNC, StatusState.SUCCESS);
            }
        } else if (event instanceof ReleaseHealthy) {
            f.seen("release-healthy");
            f.health("healthy");
        } else if (event instanceof ReleaseDegraded d) {
            f.seen("release-degraded");
            f.health("degraded");
            f.status(FLUX_SYNC, StatusState.FAILURE);
            f.failure(new Failure(FLUX_SYNC, d.reason(), d.message()));
        } else if (event instanceof StageFailed sf) {
            f.seen("stage-failed");
            f.status(sf.stage().id(), StatusState.FAILURE);
            f.failure(new Failure(sf.stage().id(), sf.reason(), sf.message()));
        }
        s.jiraKeys = new LinkedHashSet<>(new TreeSet<>(s.jiraKeys));
        return f.newFailures;
    }

    /** Moves the run to a higher attempt (afresh); says whether the event belongs to a lower one. */
    private static boolean stale(RunState s, int attempt) {
        if (attempt > s.attempt) {
            s.attempt = attempt;
            s.stages.clear();
            s.failures.clear();
            s.health = null;
            s.attemptSeen.clear();
        }
        return attempt < s.attempt;
    }

    /** A fact's new value: the event's, unless it has none or it comes from a stale attempt and one is known. */
    private static <T> T fact(T current, T value, boolean stale) {
        return value == null || (stale && current != null) ? current : value;
    }

    private static void promoted(RunState s, Deployment promotion, boolean stale) {
        Optional<Deployment> same = s.deployments.stream().filter(d -> d.gitopsRepo().equals(promotion.gitopsRepo())
                && d.environment().equals(promotion.environment())).findFirst();
        if (same.isPresent() && stale) {
            return;
        }
        same.ifPresent(s.deployments::remove);
        s.deployments.add(promotion);
        s.deployments.sort(Comparator.comparing(Deployment::gitopsRepo).thenComparing(Deployment::environment));
    }

    /** What there is to tell after the fold, given what the summary showed before and the failures just added. */
    private static List<Notice> announce(RunState s, List<Object> shownBefore, List<Failure> newFailures) {
        List<Notice> notices = new ArrayList<>();
        for (Map.Entry<String, StatusState> stage : s.stages.entrySet()) {
            if (!Objects.equals(s.posted.get(stage.getKey()), stage.getValue())) {
                s.posted.put(stage.getKey(), stage.getValue());
                notices.add(new Notice.StatusChanged(stage.getKey(), stage.getValue()));
            }
        }
        // the summary first, then the failures: a Slack thread reply follows the updated message
        if (s.announced.add(SUMMARY) || !shownBefore.equals(s.summary())) {
            notices.add(new Notice.SummaryChanged());
        }
        newFailures.forEach(f -> notices.add(new Notice.FailureSeen(f)));
        boolean ended = false;
        if (s.seen.containsAll(DEPLOY_FACTS)) {
            for (Deployment promotion : s.deployments) {
                String revision = promotion.synced() ? promotion.revision() : s.syncs.get(promotion.gitopsRepo());
                if (revision != null && s.announced.add(deployedKey(promotion))) {
                    notices.add(new Notice.Deployed(promotion.syncedAt(revision)));
                    ended = true;
                }
            }
        }
        if (s.flow == Flow.CI && CI_STAGES.stream().allMatch(st -> s.stages.get(st) == StatusState.SUCCESS)) {
            ended |= s.announced.add("ended:" + s.attempt);
        }
        if (ended) {
            notices.add(new Notice.Milestone());
        }
        return List.copyOf(notices);
    }

    static String deployedKey(Deployment d) {
        return "deployed:" + d.gitopsRepo() + " " + d.environment();
    }

    private String branchText(RunState s, String branch) {
        // branch names are often lower case (feature/shop-12-cart); only trusted with a project list
        return projects(s).isEmpty() ? branch : branch.toUpperCase(Locale.ROOT);
    }

    /**
     * The facts a build result brings, whichever way it ended: its URL, the PR title, its test and lint counts, the JIRA
     * keys they name.
     */
    private void buildFacts(RunState s, String buildUrl, String pullRequestTitle, TestSummary tests, String branch,
            boolean stale) {
        s.buildUrl = fact(s.buildUrl, buildUrl, stale);
        s.checks = fact(s.checks, tests == null ? null : checks(tests), stale);
        s.pullRequestTitle = fact(s.pullRequestTitle, pullRequestTitle, stale);
        keys(s, branchText(s, branch));
        keys(s, pullRequestTitle);
    }

    /**
     * The hook's test and lint counts. A hook that sends no {@code lint} block reports 0 errors and 0 warnings: the event
     * cannot tell that apart from a clean lint.
     */
    static String checks(TestSummary t) {
        return t.testsPassed() + " tests passed, " + t.testsFailed() + " failed, " + t.testsSkipped()
                + " skipped; lint: "
                + t.lintErrors() + " errors, " + t.lintWarnings() + " warnings";
    }

    private void keys(RunState s, String text) {
        s.jiraKeys.addAll(JiraKeys.in(text, projects(s)));
    }

    /** The app's own project from {@code .conveyor.yaml}, else the platform's list. */
    private Set<String> projects(RunState s) {
        return s.jiraProject != null ? Set.of(s.jiraProject) : jiraProjects;
    }

    /** The attempt-scoped part of one fold: a stale attempt's event leaves it alone. */
    private static final class Folding {

        private final RunState s;
        private final boolean stale;
        private final List<Failure> newFailures = new ArrayList<>();

        Folding(RunState s, boolean stale) {
            this.s = s;
            this.stale = stale;
        }

        void seen(String kind) {
            s.seen.add(kind);
        }

        void attempt(String token) {
            if (!stale) {
                s.attemptSeen.add(token);
            }
        }

        /** A stage's state only moves up within an attempt: pending, success, failure. */
        void status(String stage, StatusState state) {
            StatusState current = s.stages.get(stage);
            if (stale || (current != null && current.ordinal() >= state.ordinal())) {
                return;
            }
            s.stages.put(stage, state);
            Map<String, StatusState> sorted = new LinkedHashMap<>();
            s.stages.keySet().stream().sorted(STAGE_ORDER).forEach(k -> sorted.put(k, s.stages.get(k)));
            s.stages = sorted;
        }

        void failure(Failure failure) {
            if (!stale && !s.failures.contains(failure)) {
                s.failures.add(failure);
                s.failures.sort(FAILURE_ORDER);
                newFailures.add(failure);
            }
        }

        void health(String health) {
            if (!stale && !"degraded".equals(s.health)) {
                s.health = health;
            }
        }
    }
}
