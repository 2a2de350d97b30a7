package dev.conveyor.deploy.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The alert rules pass {@code promtool check rules}, and their unit tests in {@code src/test/promtool} pass
 * {@code promtool test rules}; every alert has a test where it fires and one where it does not. promtool comes from
 * the Debian package {@code prometheus}; without it this test fails rather than skips.
 */
class AlertRulesTest {

    static final Path RULES = Chart.DIR.resolve("files/alerts.yaml");
    static final Path UNIT_TESTS = Path.of("src/test/promtool").toAbsolutePath();

    @Test
    void rulesAreValid() {
        Result check = promtool("check", "rules", RULES.toString());
        assertThat(check.exitCode()).as("promtool check rules:\n" + check.output()).isZero();
        assertThat(check.output()).contains("SUCCESS");
    }

    @Test
    void unitTestsPass() throws IOException {
        List<String> command = new ArrayList<>(List.of("test", "rules"));
        testFiles().forEach(f -> command.add(f.toString()));
        Result test = promtool(command.toArray(String[]::new));
        assertThat(test.exitCode()).as("promtool test rules:\n" + test.output()).isZero();
        assertThat(test.output()).doesNotContain("FAILED");
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyAlertFiresAndStaysQuietInSomeTest() throws IOException {
        Set<String> alerts = new TreeSet<>();
        Map<String, Object> file = ChartRenderTest.yaml().load(Files.readString(RULES));
        for (Map<String, Object> group : (List<Map<String, Object>>) file.get("groups")) {
            for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
                alerts.add((String) rule.get("alert"));
            }
        }
        Map<String, Set<String>> outcomes = new TreeMap<>();
        for (Path testFile : testFiles()) {
            Map<String, Object> tests = ChartRenderTest.yaml().load(Files.readString(testFile));
            assertThat((List<String>) tests.get("rule_files")).allSatisfy(r -> assertThat(testFile.getParent()
                    .resolve(r).normalize()).isEqualTo(RULES));
            for (Map<String, Object> test : (List<Map<String, Object>>) tests.get("tests")) {
                for (Map<String, Object> c : (List<Map<String, Object>>) test.get("alert_rule_test")) {
                    boolean fires = !((List<Object>) c.get("exp_alerts")).isEmpty();
                    outcomes.computeIfAbsent((String) c.get("alertname"), k -> new TreeSet<>()).add(fires
                            ? "fires"
                            : "quiet");
                }
            }
        }
        assertThat(alerts).hasSize(11);
        for (String alert : alerts) {
            assertThat(outcomes.get(alert)).as(alert).containsExactly("fires", "quiet");
        }
        assertThat(outcomes.keySet()).isEqualTo(alerts);
    }

    static List<Path> testFiles() throws IOException {
        try (Stream<Path> files = Files.list(UNIT_TESTS)) {
            List<Path> list = files.filter(f -> f.getFileName().toString().endsWith(".test.yaml")).sorted().toList();
            assertThat(list).isNotEmpty();
            return list;
        }
    }

    record Result(int exitCode, String output) {
    }

    /** Runs promtool from the PATH; a missing promtool fails the test with what to install. */
    static Result promtool(String... args) {
        List<String> command = new ArrayList<>();
        command.add("promtool");
        command.addAll(List.of(args));
        Process process;
        try {
            process = new ProcessBuilder(command).directory(UNIT_TESTS.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            return fail("promtool is not installed (" + e.getMessage() + "): install the Debian package "
                    + "'prometheus' (apt-get install -y prometheus), which provides promtool");
        }
        try {
            byte[] out = process.getInputStream().readAllBytes();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return fail("promtool did not finish in 60 s: " + command);
            }
            return new Result(process.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return fail("reading promtool's output failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("interrupted while waiting for promtool");
        }
    }
}
