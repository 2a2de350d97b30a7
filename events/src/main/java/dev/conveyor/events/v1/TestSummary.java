package dev.conveyor.events.v1;

/**
 * Test and lint results Jenkins reported for the build.
 *
 * @param testsPassed tests that passed
 * @param testsFailed tests that failed
 * @param testsSkipped tests that were skipped
 * @param lintErrors linter errors
 * @param lintWarnings linter warnings
 */
public record TestSummary(int testsPassed, int testsFailed, int testsSkipped, int lintErrors, int lintWarnings) {

    public TestSummary {
        Checks.atLeast(testsPassed, 0, "testsPassed");
        Checks.atLeast(testsFailed, 0, "testsFailed");
        Checks.atLeast(testsSkipped, 0, "testsSkipped");
        Checks.atLeast(lintErrors, 0, "lintErrors");
        Checks.atLeast(lintWarnings, 0, "lintWarnings");
    }
}
