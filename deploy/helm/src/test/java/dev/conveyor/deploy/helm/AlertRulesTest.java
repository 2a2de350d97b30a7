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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

    /**
     * Every metric a rule queries is defined in the services' code (a Micrometer meter name, Prometheus-named) or is
     * one of the Kafka client metrics Quarkus binds, and every stage, outcome and event type a rule matches is a value
     * the code uses. The end-to-end test checks the same against live scrapes; this catches typos at once.
     */
    @Test
    @SuppressWarnings("unchecked")
    void rulesQueryOnlyMetricsAndLabelValuesTheServicesUse() throws IOException {
        String sources = mainSources();
        Map<String, Object> file = ChartRenderTest.yaml().load(Files.readString(RULES));
        Set<String> metrics = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        for (Map<String, Object> group : (List<Map<String, Object>>) file.get("groups")) {
            for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
                String expr = (String) rule.get("expr");
                Matcher names = Pattern.compile("\\b((?:conveyor|kafka)_[a-z0-9_]+)\\b").matcher(expr);
                while (names.find()) {
                    metrics.add(names.group(1));
                }
                Matcher labels = Pattern.compile("\\b(stage|outcome|type)=~?\"([^\"]*)\"").matcher(expr);
                while (labels.find()) {
                    for (String value : labels.group(2).split("\\|")) {
                        if (!sources.contains("\"" + value + "\"") && !sources.contains("record " + value + "(")) {
                            problems.add(rule.get("alert") + ": " + labels.group(1) + " value " + value
                                    + " is used nowhere in the services' code");
                        }
                    }
                }
            }
        }
        for (String metric : metrics) {
            if (metric.startsWith("kafka_")) {
                if (!KAFKA_CLIENT_METRICS.contains(metric)) {
                    problems.add(metric + " is not a Kafka client metric seen on a service's /q/metrics");
                }
                continue;
            }
            String meter = metric.replaceFirst("(_seconds_count|_seconds_sum|_seconds_bucket|_seconds_max|_total)$",
                    "").replace('_', '.');
            if (!sources.contains("\"" + meter + "\"")) {
                problems.add(metric + ": no meter \"" + meter + "\" in the services' code");
            }
        }
        assertThat(metrics).contains("conveyor_stage_duration_seconds_count", "conveyor_sync_duration_seconds_count",
                "conveyor_notifier_deliveries_total", "kafka_producer_record_send_total");
        assertThat(problems).isEmpty();
    }

    /**
     * Kafka client metrics of SmallRye's consumers and producers that Quarkus' Micrometer binder exposes, as scraped
     * from a running versioner (Quarkus 3.33, kafka-clients 4.1).
     */
    static final Set<String> KAFKA_CLIENT_METRICS = Set.of("kafka_consumer_fetch_manager_records_lag_max",
            "kafka_producer_record_send_total");

    /** The Java sources of every module, as one string. */
    static String mainSources() throws IOException {
        StringBuilder all = new StringBuilder();
        try (Stream<Path> files = Files.walk(Chart.REPO, 14)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java") && p.toString().contains(
                    "/src/main/java/") && !p.toString().contains("/target/")).toList()) {
                all.append(Files.readString(f)).append('\n');
            }
        }
        return all.toString();
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
