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
 * The chaos suite at CI size, on the local stack exactly as {@code ./conveyor up} starts it: every service killed
 * ({@code kill -9}) at least twice while it works on a run, then the broker once, each followed by the restart
 * {@code up} does; every run must keep every invariant of {@link ChaosInvariants}. The kills are counted: a kill that
 * landed after the process's output for the run does not count, and extra runs make up for it.
 */
// After the other ITs (failsafe's class order, deploy/local/pom.xml): it kills every service, so it trains no cache and
// gains most from those the other ITs' downs wrote. Only its speed depends on that.
@Order(Order.DEFAULT + 1)
class ChaosIT {

    /** No run starts after this (CI: 2 cores, the whole build well under 30 min); the timeout below is the backstop. */
    static final Duration BUDGET = Duration.ofMinutes(7);
    /**
     * Per run, from the hook: runs take up to ~25 s here with a kill (takeover ~10-13 s), so a takeover back at the 45 s
     * default session timeout fails TERMINAL.
     */
    static final Duration DEADLINE = Duration.ofSeconds(45);

    @TempDir
    static Path data;

    static LocalStack stack;

    @BeforeAll
    static void up() throws IOException {
        stack = TestStacks.stack(data);
    }

    @AfterAll
    static void down() {
        if (stack != null) {
            stack.down();
        }
    }

    @Test
    @Timeout(value = 11, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void everyServiceKilledTwiceMidWorkAndTheBrokerOnceBreakNoInvariant() {
        List<ChaosSuite.Target> plan = new ArrayList<>(ChaosSuite.plan("services", 2 * ServiceSpec.ALL.size()));
        plan.addAll(ChaosSuite.plan("broker", 1));
        long seed = Long.getLong("chaos.seed", 14L);
        ChaosSuite suite = new ChaosSuite(stack, Optional.empty(), new PrintStream(System.out, true,
                StandardCharsets.UTF_8), seed, DEADLINE).budget(BUDGET);

        ChaosSuite.Summary summary = suite.run(plan, 2, 7);

        assertThat(summary.aborted()).as("the stack came back after every kill").isFalse();
        assertThat(summary.overBudget()).as("the suite ran within its budget of %s", BUDGET).isFalse();
        for (ServiceSpec s : ServiceSpec.ALL) {
            assertThat(summary.midWorkKills().getOrDefault(s.name(), 0L)).as("mid-work kills of %s", s.name())
                    .isGreaterThanOrEqualTo(2);
        }
        assertThat(summary.midWorkKills().getOrDefault("broker", 0L)).as("mid-work kills of the broker")
                .isGreaterThanOrEqualTo(1);
        // Every kill was followed by a restart of exactly the killed process.
        assertThat(summary.runs()).filteredOn(r -> r.killAfterInputMs() != null).allSatisfy(r -> assertThat(r
                .restarted()).as("up after killing %s", r.target().process()).containsExactly(r.target().process()
                        .equals("broker") ? LocalStack.KAFKA : r.target().process()));
        // The sample app is healthy: a kill may slow a run down, never fail it.
        assertThat(summary.runs()).as("outcomes").extracting(ChaosSuite.RunResult::outcome).containsOnly(
                "synced+healthy");
        assertThat(summary.runs().stream().flatMap(r -> r.violations().stream().map(v -> r.runId() + " " + v)))
                .as("violations").isEmpty();
        assertThat(summary.lateViolations()).as("violations found at the end").isEmpty();
    }
}
