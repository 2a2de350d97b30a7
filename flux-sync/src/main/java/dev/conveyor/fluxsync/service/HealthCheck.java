package dev.conveyor.fluxsync.service;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.domain.ObjectRef;
import dev.conveyor.fluxsync.domain.ProblemReason;
import dev.conveyor.fluxsync.domain.WorkloadHealth;

/**
 * Phase "wait for health": reads a release's workloads ({@code kubectl rollout status} rules) until all are ready, one
 * fails ({@link ProblemReason#ROLLOUT_FAILED}) or the deadline passes ({@link ProblemReason#ROLLOUT_TIMEOUT}).
 */
final class HealthCheck {

    /** What a release's health is checked for. */
    record Target(ObjectRef release, String releaseName, List<ObjectRef> workloads, boolean changed) {

        List<String> names() {
            return refNames(workloads);
        }

        ReleaseResult result(ReleaseResult.State state, ProblemReason reason, String message) {
            return new ReleaseResult(release.namespace(), release.name(), releaseName, state, names(), reason, message,
                    changed);
        }
    }

    /** How the message of a release that a wait gave up on begins. */
    private static final String WAITED = "not ready after ";
    /** How the message of a release a look found not ready begins. */
    private static final String LOOKED = "not ready yet: ";

    /** The pause before a wait's second look (see {@link #await(Target, long)}). */
    static final long FIRST_LOOK_MS = 100;

    private final KubeCluster cluster;
    private final Duration timeout;
    private final Duration poll;

    HealthCheck(KubeCluster cluster, Duration timeout, Duration poll) {
        this.cluster = cluster;
        this.timeout = timeout;
        this.poll = poll;
    }

    Duration timeout() {
        return timeout;
    }

    static List<String> refNames(List<ObjectRef> workloads) {
        return workloads.stream().map(w -> w.kind() + "/" + w.namespace() + "/" + w.name()).toList();
    }

    /** Waits until the workloads are ready, one fails, or the health timeout from now passes. */
    ReleaseResult await(Target target) {
        return await(target, System.nanoTime() + timeout.toNanos());
    }

    /**
     * Waits until the workloads are ready, one fails, or {@code deadline} ({@link System#nanoTime()}) passes. The looks
     * after the first come {@value #FIRST_LOOK_MS} ms apart, then twice as far apart each time up to the poll interval:
     * a workload that rolls out within a second of its apply is seen when it does, not a whole interval later, and a
     * slow rollout costs about four reads more than with a fixed interval.
     */
    ReleaseResult await(Target target, long deadline) {
        long pause = Math.min(FIRST_LOOK_MS, poll.toMillis());
        while (true) {
            Probe p = probe(target);
            if (p.result != null) {
                return p.result;
            }
            if (System.nanoTime() > deadline) {
                return target.result(ReleaseResult.State.DEGRADED, ProblemReason.ROLLOUT_TIMEOUT, WAITED + timeout
                        .toSeconds() + " s: " + p.waitingFor);
            }
            try {
                Thread.sleep(pause);
                pause = Math.min(pause * 2, poll.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return target.result(ReleaseResult.State.DEGRADED, ProblemReason.INTERRUPTED,
                        "interrupted while waiting for the rollout");
            }
        }
    }

    /**
     * Reads the workloads once: healthy, failed, or (still rolling out) degraded with {@code stillReason} — the reason
     * the release was last found unhealthy for.
     */
    ReleaseResult once(Target target, ProblemReason stillReason) {
        return once(target, stillReason, w -> Optional.empty());
    }

    /**
     * Reads the workloads once like {@link #once(Target, ProblemReason)}, taking each workload from {@code listed}
     * when it holds it (the object as listed by this sync, which has not written it since) and reading the others
     * from the API server.
     */
    ReleaseResult once(Target target, ProblemReason stillReason,
            Function<ObjectRef, Optional<Map<String, Object>>> listed) {
        Probe p = probe(target, listed);
        if (p.result != null) {
            return p.result;
        }
        return target.result(ReleaseResult.State.DEGRADED, stillReason, LOOKED + p.waitingFor);
    }

    /**
     * The message of a look that finds a release still waiting for what a wait gave up on: the wait's message
     * ({@code lastMessage}, "not ready after N s: X") when the look says "not ready yet: X" for the same X, so a release
     * that is just as unready as it was keeps its conditions (they are not rewritten on every sync after the one that
     * waited); otherwise {@code nowMessage}.
     */
    static String stillWaiting(String lastMessage, String nowMessage) {
        if (lastMessage == null || !lastMessage.startsWith(WAITED) || !nowMessage.startsWith(LOOKED)) {
            return nowMessage;
        }
        int seconds = lastMessage.indexOf(" s: ", WAITED.length());
        return seconds > 0 && lastMessage.substring(seconds + 4).equals(nowMessage.substring(LOOKED.length()))
                ? lastMessage
                : nowMessage;
    }

    private record Probe(ReleaseResult result, String waitingFor) {
    }

    private Probe probe(Target target) {
        return probe(target, w -> Optional.empty());
    }

    private Probe probe(Target target, Function<ObjectRef, Optional<Map<String, Object>>> listed) {
        for (ObjectRef w : target.workloads()) {
            var live = listed.apply(w).or(() -> cluster.get(w)).orElse(null);
            if (live == null) {
                return new Probe(null, w + " is missing");
            }
            // judged by the kind asked for: the items of a real API server's list carry no kind
            WorkloadHealth.Verdict v = WorkloadHealth.evaluate(w.kind(), live);
            if (v.status() == WorkloadHealth.Status.FAILED) {
                return new Probe(target.result(ReleaseResult.State.DEGRADED, ProblemReason.ROLLOUT_FAILED, w + ": " + v
                        .message()), null);
            }
            if (v.status() == WorkloadHealth.Status.PROGRESSING) {
                return new Probe(null, w + ": " + v.message());
            }
        }
        return new Probe(ready(target), null);
    }

    /**
     * The result of a release whose workloads are ready: seen now, or seen at this rendering by an earlier sync (the
     * same message, so an unchanged release's conditions do not change).
     */
    static ReleaseResult ready(Target target) {
        return target.result(ReleaseResult.State.HEALTHY, ProblemReason.SUCCEEDED, "all " + target.workloads().size()
                + " workloads are ready");
    }
}
