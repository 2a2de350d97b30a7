package dev.conveyor.deploy.grafana;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.conveyor.deploy.grafana.DashboardMetrics.Missing;

class DashboardMetricsTest {

    static Set<String> fixture() throws IOException {
        try (InputStream in = DashboardMetricsTest.class.getResourceAsStream("/stack-exposition.txt")) {
            return Exposition.metricNames(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    static Path resource(String name) throws Exception {
        return Path.of(DashboardMetricsTest.class.getResource("/" + name).toURI());
    }

    @Test
    void everyDashboardMetricIsInTheStacksExposition() throws IOException {
        assertThat(DashboardsTest.DASHBOARDS.check(fixture())).isEmpty();
    }

    @Test
    void aMetricNoServiceExposesIsReportedWithDashboardPanelAndExpression() throws IOException {
        Set<String> exposed = new HashSet<>(fixture());
        exposed.remove("conveyor_deployments_total");

        List<Missing> missing = DashboardsTest.DASHBOARDS.check(exposed);

        assertThat(missing).isNotEmpty().allSatisfy(m -> assertThat(m.metric()).isEqualTo(
                "conveyor_deployments_total"));
        assertThat(missing).extracting(Missing::source).contains("conveyor-dora.json", "conveyor-flux-sync.json");
        assertThat(missing).anySatisfy(m -> {
            assertThat(m.source()).isEqualTo("conveyor-dora.json");
            assertThat(m.panel()).isEqualTo("Change failure rate");
            assertThat(m.expr()).contains("outcome=\"degraded\"");
            assertThat(m.toString()).startsWith("conveyor-dora.json / Change failure rate: "
                    + "conveyor_deployments_total is not exposed");
        });
    }

    @Test
    void everyDashboardFamilyIsNeeded() throws IOException {
        // The fixture holds nothing the dashboards do not query: each family removed makes the check fail.
        Set<String> all = fixture();
        Set<String> queried = new HashSet<>();
        DashboardsTest.DASHBOARDS.queries().forEach(q -> queried.addAll(q.metrics()));
        for (String name : queried) {
            Set<String> without = new HashSet<>(all);
            without.remove(name);
            assertThat(DashboardsTest.DASHBOARDS.check(without)).as(name).isNotEmpty();
        }
    }

    @Test
    void ruleFilesAreCheckedToo() throws Exception {
        DashboardMetrics withRules = DashboardsTest.DASHBOARDS.withRules(List.of(resource("rules.yaml"),
                resource("prometheusrule.yaml")));

        assertThat(withRules.queries()).extracting(DashboardMetrics.Query::panel).contains("ConveyorStageFailing",
                "conveyor:stage_latency_p95:5m", "ConveyorSyncStuck", "ConveyorDeadLetters");
        assertThat(withRules.check(fixture())).singleElement().satisfies(m -> {
            assertThat(m.source()).isEqualTo("rules.yaml");
            assertThat(m.panel()).isEqualTo("ConveyorSyncStuck");
            assertThat(m.metric()).isEqualTo("conveyor_sync_last_success_timestamp_seconds");
        });
    }

    @Test
    void variableQueriesSelectTheirSeries(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("d.json"),
                """
                        {"uid": "d", "title": "D", "schemaVersion": 39, "panels": [],
                         "templating": {"list": [
                           {"name": "stage", "type": "query", "query": {"query": "label_values(stage_seconds_count{x=\\"1\\"}, stage)"}},
                           {"name": "job", "type": "query", "query": "label_values(job)"},
                           {"name": "top", "type": "query", "query": "query_result(topk(3, top_total))"}]}}
                        """);

        assertThat(DashboardMetrics.load(dir).check(Set.of())).extracting(Missing::panel, Missing::metric)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("variable stage", "stage_seconds_count"),
                        org.assertj.core.groups.Tuple.tuple("variable top", "top_total"));
    }

    @Test
    void substitutionHandlesEveryVariableSyntax() {
        assertThat(DashboardMetrics.substitute("rate(x{a=~\"$app\",b=\"${b:regex}\",c=\"[[c]]\"}[$__rate_interval])",
                Map.of("app", "shop|cart", "b", "B", "__rate_interval", "2m")))
                .isEqualTo("rate(x{a=~\"shop|cart\",b=\"B\",c=\".*\"}[2m])");
    }

    @Test
    void aBrokenDashboardIsNamedWithEveryProblem(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("broken.json"), """
                {"uid": "", "title": "Broken", "schemaVersion": 30,
                 "templating": {"list": []},
                 "panels": [
                   {"id": 1, "type": "timeseries", "title": "A", "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
                    "datasource": {"type": "prometheus", "uid": "${datasource}"},
                    "targets": [{"refId": "A", "expr": "rate(x[$window])"}]},
                   {"id": 1, "type": "timeseries", "title": "B", "gridPos": {"h": 8, "w": 16, "x": 12},
                    "datasource": {"type": "prometheus", "uid": "P1"}, "targets": [{"refId": "A", "expr": ""}]}]}
                """);

        List<String> problems = DashboardLint.problems(DashboardMetrics.load(dir).dashboards().get(0));

        assertThat(problems).anyMatch(p -> p.contains("uid must be set"))
                .anyMatch(p -> p.contains("schemaVersion must be at least 39"))
                .anyMatch(p -> p.contains("variable 'datasource'"))
                .anyMatch(p -> p.contains("panel id 1 is missing or not unique"))
                .anyMatch(p -> p.contains("panel 'A': unknown variable $window"))
                .anyMatch(p -> p.contains("panel 'B': gridPos.y missing"))
                .anyMatch(p -> p.contains("panel 'B': gridPos wider than 24 columns"))
                .anyMatch(p -> p.contains("panel 'B': datasource must be"))
                .anyMatch(p -> p.contains("panel 'B': no target with an expression"));
    }

    @Test
    void aDirectoryWithoutDashboardsIsAnError(@TempDir Path dir) {
        assertThatThrownBy(() -> DashboardMetrics.load(dir)).hasMessageContaining("no *.json dashboard");
    }
}
