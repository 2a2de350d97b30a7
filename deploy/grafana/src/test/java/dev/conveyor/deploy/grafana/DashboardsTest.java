package dev.conveyor.deploy.grafana;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.conveyor.deploy.grafana.DashboardMetrics.Dashboard;
import dev.conveyor.deploy.grafana.DashboardMetrics.Query;

/** Every dashboard in {@code deploy/grafana/dashboards} loads and is a valid Grafana dashboard JSON model. */
class DashboardsTest {

    static final Path DIR = Path.of(System.getProperty("conveyor.grafana.dashboards", "dashboards"));
    static final DashboardMetrics DASHBOARDS = DashboardMetrics.load(DIR);

    @Test
    void theFourDashboardsAreThere() {
        assertThat(DASHBOARDS.dashboards()).extracting(Dashboard::file).containsExactly("conveyor-dora.json",
                "conveyor-flux-sync.json", "conveyor-pipeline.json", "conveyor-stages.json");
        assertThat(DASHBOARDS.dashboards()).extracting(Dashboard::uid).doesNotHaveDuplicates();
        assertThat(DASHBOARDS.dashboards()).allSatisfy(d -> assertThat(d.panels()).hasSizeGreaterThan(5));
    }

    @Test
    void anyModuleFindsTheRepositorysDashboards() {
        assertThat(DashboardMetrics.loadFromRepository().dashboards()).extracting(Dashboard::uid)
                .containsExactlyElementsOf(DASHBOARDS.dashboards().stream().map(Dashboard::uid).toList());
    }

    @Test
    void everyDashboardIsAValidGrafanaModel() {
        for (Dashboard dashboard : DASHBOARDS.dashboards()) {
            assertThat(DashboardLint.problems(dashboard)).as(dashboard.file()).isEmpty();
        }
    }

    @Test
    void everyPanelExpressionSelectsAtLeastOneMetricAndParsesCleanly() {
        for (Query q : DASHBOARDS.queries()) {
            assertThat(q.metrics()).as(q.source() + " / " + q.panel() + ": " + q.expr()).isNotEmpty()
                    .allSatisfy(m -> assertThat(m).matches("[a-z_:][a-z0-9_:]*"));
        }
    }

    @Test
    void theDoraDashboardShowsTheFourKeys() {
        List<String> titles = DASHBOARDS.dashboard("conveyor-dora").orElseThrow().panels().stream()
                .map(p -> p.path("title").asText()).toList();
        assertThat(titles).contains("Deployment frequency", "Lead time for changes", "Change failure rate",
                "Time to restore");
    }

    @Test
    void theOverviewWithVariablesSubstitutedIsPlainPromQl() {
        List<Query> overview = DASHBOARDS.queries("conveyor-pipeline.json", Map.of());

        assertThat(overview).hasSizeGreaterThanOrEqualTo(10).allSatisfy(q -> assertThat(q.expr()).doesNotContain("$"));
        assertThat(overview).extracting(Query::expr)
                .contains("sum by (flow, outcome) (increase(conveyor_pipeline_runs_total[1h]))")
                .anySatisfy(e -> assertThat(e).contains("conveyor_events_consumed_total[1m]"));
        List<Query> stages = DASHBOARDS.queries("conveyor-stages", Map.of("stage", "versioner|promoter",
                "__rate_interval", "30s"));
        assertThat(stages).extracting(Query::expr).anySatisfy(e -> assertThat(e).isEqualTo(
                "histogram_quantile(0.95, sum by (le, stage) (rate(conveyor_stage_duration_seconds_bucket"
                        + "{stage=~\"versioner|promoter\"}[30s])))"));
    }
}
