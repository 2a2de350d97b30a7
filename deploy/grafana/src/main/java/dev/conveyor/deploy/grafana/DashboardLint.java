package dev.conveyor.deploy.grafana;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

import dev.conveyor.deploy.grafana.DashboardMetrics.Dashboard;

/**
 * What a Conveyor dashboard must be to load in Grafana and to work against any Prometheus: the fields Grafana's
 * dashboard JSON model needs, unique panel ids, and every query bound to the {@code datasource} variable.
 */
public final class DashboardLint {

    /** The oldest dashboard JSON schema the dashboards are written for (Grafana 10.3+). */
    public static final int MIN_SCHEMA_VERSION = 39;
    /** The datasource every panel and target names: the dashboard's Prometheus datasource variable. */
    public static final String DATASOURCE = "${datasource}";

    private DashboardLint() {
    }

    /** Every problem of one dashboard, each naming the dashboard and the panel; empty when it is fine. */
    public static List<String> problems(Dashboard dashboard) {
        List<String> problems = new ArrayList<>();
        JsonNode json = dashboard.json();
        String where = dashboard.file();
        if (dashboard.uid().isBlank() || dashboard.uid().length() > 40) {
            problems.add(where + ": uid must be set and at most 40 characters");
        }
        if (dashboard.title().isBlank()) {
            problems.add(where + ": title must be set");
        }
        if (json.path("schemaVersion").asInt(0) < MIN_SCHEMA_VERSION) {
            problems.add(where + ": schemaVersion must be at least " + MIN_SCHEMA_VERSION);
        }
        Map<String, JsonNode> variables = dashboard.variables();
        JsonNode datasource = variables.get("datasource");
        if (datasource == null || !"datasource".equals(datasource.path("type").asText())
                || !"prometheus".equals(datasource.path("query").asText())) {
            problems.add(where + ": needs a variable 'datasource' of type datasource with query 'prometheus'");
        }
        Set<Integer> ids = new HashSet<>();
        for (int id : dashboard.panelIds()) {
            if (id < 0 || !ids.add(id)) {
                problems.add(where + ": panel id " + id + " is missing or not unique");
            }
        }
        for (JsonNode panel : json.path("panels")) {
            gridPos(where + " row/panel '" + panel.path("title").asText() + "'", panel, problems);
        }
        for (JsonNode panel : dashboard.panels()) {
            String title = panel.path("title").asText("");
            String at = where + " panel '" + title + "'";
            if (title.isBlank()) {
                problems.add(where + ": panel " + panel.path("id").asInt() + " has no title");
            }
            if (panel.path("type").asText("").isBlank()) {
                problems.add(at + ": no type");
            }
            gridPos(at, panel, problems);
            if (!isOurDatasource(panel.path("datasource"))) {
                problems.add(at + ": datasource must be {type: prometheus, uid: " + DATASOURCE + "}");
            }
            boolean hasExpr = false;
            for (JsonNode target : panel.path("targets")) {
                String expr = target.path("expr").asText("");
                hasExpr |= !expr.isBlank();
                if (target.has("datasource") && !isOurDatasource(target.path("datasource"))) {
                    problems.add(at + ": target " + target.path("refId").asText() + " uses another datasource");
                }
                if (target.path("refId").asText("").isBlank()) {
                    problems.add(at + ": a target has no refId");
                }
                unresolved(at, expr, variables, problems);
            }
            if (!hasExpr) {
                problems.add(at + ": no target with an expression");
            }
        }
        variables.forEach((name, variable) -> {
            if ("query".equals(variable.path("type").asText())) {
                if (!isOurDatasource(variable.path("datasource"))) {
                    problems.add(where + " variable '" + name + "': datasource must be " + DATASOURCE);
                }
                JsonNode query = variable.path("query");
                String text = query.isObject() ? query.path("query").asText("") : query.asText("");
                unresolved(where + " variable '" + name + "'", text, variables, problems);
            }
        });
        return problems;
    }

    private static void gridPos(String at, JsonNode panel, List<String> problems) {
        JsonNode pos = panel.path("gridPos");
        for (String key : List.of("h", "w", "x", "y")) {
            if (!pos.path(key).isInt()) {
                problems.add(at + ": gridPos." + key + " missing");
            }
        }
        if (pos.path("x").asInt() + pos.path("w").asInt() > 24) {
            problems.add(at + ": gridPos wider than 24 columns");
        }
    }

    private static void unresolved(String at, String expr, Map<String, JsonNode> variables, List<String> problems) {
        for (String name : DashboardMetrics.variablesIn(expr)) {
            if (!variables.containsKey(name) && !DashboardMetrics.BUILT_INS.containsKey(name)) {
                problems.add(at + ": unknown variable $" + name);
            }
        }
    }

    private static boolean isOurDatasource(JsonNode datasource) {
        return "prometheus".equals(datasource.path("type").asText())
                && DATASOURCE.equals(datasource.path("uid").asText());
    }
}
