package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chaos suite on a stack of two replicas of every service ({@code up --replicas 2}): each run kills ONE replica of
 * a stage ({@code kill -9}, the one holding the run's partition) and the other must take the run over; {@code up}
 * brings the killed one back only once the run has ended. Every run must keep every invariant of
 * {@link ChaosInvariants}, exactly as with one replica ({@link ChaosIT}).
 */
// After the other ITs (failsafe's class order, deploy/local/pom.xml): it kills every service, so it trains no cache and
// gains most from those the other ITs' downs wrote. Only its speed depends on that.
@Order(Order.DEFAULT + 1)
class ChaosReplicasIT {

    /** Processes per service. */
    static final int REPLICAS = 2;
    /**
     * The services whose replicas are killed, one per run in this order. Services in
     * {@link ServiceSpec#SINGLE_INSTANCE} run as one process (not replica-safe yet); once one is, remove it there and
     * add it here.
     */
    static final List<String> KILLED = List.of("versioner", "image-builder", "manifest-renderer", "promoter",
            "gateway", "notifier", "flux-sync");
    static final Duration BUDGET = Duration.ofMinutes(5);
    /**
     * Per run, from the hook: a dead replica's partitions move after the consumers' session timeout (10 s,
     * stage-support), then the survivor redoes the work.
     */
    static final Duration DEADLINE = Duration.ofSeconds(60);

    @TempDir
    static Path data;

    static LocalStack stack;

    @BeforeAll
    static void up() throws IOException {
        stack = TestStacks.stack(data)
                .withReplicas(REPLICAS);
    }

    @AfterAll
    static void down() {
        if (stack != null) {
            stack.down();
        }
    }

    @Test
    @Timeout(value = 9, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void oneReplicaKilledPerRunIsTakenOverByTheOtherAndBreaksNoInvariant() {
        List<ChaosSuite.Target> plan = new ArrayList<>();
        KILLED.forEach(s -> plan.add(new ChaosSuite.Target(s, s)));
        long seed = Long.getLong("chaos.seed", 17L);
        ChaosSuite suite = new ChaosSuite(stack, Optional.empty(), new PrintStream(System.out, true,
                StandardCharsets.UTF_8), seed, DEADLINE).budget(BUDGET);

        ChaosSuite.Summary summary = suite.run(plan, 0, 0);

        assertThat(stack.replicaCounts()).as("processes per service").allSatisfy((service, n) -> assertThat(n)
                .isEqualTo(ServiceSpec.SINGLE_INSTANCE.contains(service) ? 1 : REPLICAS));
        assertThat(summary.aborted()).as("the stack came back after every kill").isFalse();
        assertThat(summary.overBudget()).as("the suite ran within its budget of %s", BUDGET).isFalse();
        List<ChaosSuite.RunResult> killed = summary.runs().stream().filter(r -> r.killAfterInputMs() != null)
                .toList();
        assertThat(killed).as("runs with a kill").hasSize(KILLED.size());
        // One replica killed per run, never the whole stage, and up brought back exactly that one after the run.
        assertThat(killed).allSatisfy(r -> {
            assertThat(r.killed()).as("killed in %s", r.runId()).hasSize(1);
            assertThat(ServiceSpec.ofReplica(r.killed().get(0))).as("a replica of %s", r.target().process())
                    .hasValueSatisfying(e -> assertThat(e.getKey().name()).isEqualTo(r.target().process()));
            assertThat(r.restarted()).as("up after killing %s", r.killed()).containsExactlyElementsOf(r.killed());
        });
        // The survivors took every run over: each ended deployed, with its effects once.
        assertThat(summary.runs()).as("outcomes").extracting(ChaosSuite.RunResult::outcome).containsOnly(
                "synced+healthy");
        assertThat(summary.runs().stream().flatMap(r -> r.violations().stream().map(v -> r.runId() + " " + v)))
                .as("violations").isEmpty();
        assertThat(summary.lateViolations()).as("violations found at the end").isEmpty();
        assertThat(killed.stream().filter(r -> r.midWork() && r.takeover() != null)).as(
                "kills mid-work that the other replica took over").isNotEmpty();
    }
}
