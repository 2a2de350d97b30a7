package dev.conveyor.deploy.grafana;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

/**
 * Every PromQL expression of Conveyor's Grafana dashboards (and of any Prometheus rule files given), and the metric
 * names each selects: what {@link #check} compares with the names the services really expose, so that a dashboard or
 * alert can never query a metric that no service has.
 *
 * <p>
 * Expressions come from every panel target ({@code targets[].expr}, rows' nested panels included), from query
 * variables ({@code label_values(selector, label)} selects the selector's metric) and from rules
 * ({@code groups[].rules[].expr}).
 */
public final class DashboardMetrics {

    /** Values Grafana gives its built-in variables, as {@link #queries(String, Map)} substitutes them by default. */
    public static final Map<String, String> BUILT_INS = Map.of("__rate_interval", "1m", "__interval", "1m",
            "__interval_ms", "60000", "__range", "1h", "__range_s", "3600", "__range_ms", "3600000");

    /** A Grafana variable reference: {@code $name}, <code>${name}</code>, <code>${name:format}</code>, {@code [[name]]}. */
    static final Pattern VARIABLE = Pattern.compile(
            "\\$\\{(\\w+)(?::[^}]*)?}|\\$(\\w+)|\\[\\[(\\w+)(?::[^\\]]*)?]]");
    private static final Pattern LABEL_VALUES = Pattern.compile("^\\s*label_values\\s*\\((.*),\\s*\\w+\\s*\\)\\s*$",
            Pattern.DOTALL);
    private static final Pattern QUERY_RESULT = Pattern.compile("^\\s*query_result\\s*\\((.*)\\)\\s*$",
            Pattern.DOTALL);
    /** Where the dashboards live in the repository. */
    public static final Path REPOSITORY_PATH = Path.of("deploy", "grafana", "dashboards");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /**
     * One expression.
     *
     * @param source the dashboard file (e.g. {@code conveyor-pipeline.json}) or rule file it is in
     * @param panel the panel title, {@code variable <name>}, or the rule's alert / record name
     * @param expr the PromQL expression as written
     */
    public record Query(String source, String panel, String expr) {

        /** The metric names the expression selects. */
        public Set<String> metrics() {
            return PromQl.metricNames(expr);
        }
    }

    /**
     * A metric a query selects that no service exposes.
     *
     * @param source the dashboard or rule file
     * @param panel the panel title, variable or rule
     * @param expr the expression
     * @param metric the missing metric name
     */
    public record Missing(String source, String panel, String expr, String metric) {

        @Override
        public String toString() {
            return source + " / " + panel + ": " + metric + " is not exposed (in: " + expr + ")";
        }
    }

    /**
     * One loaded dashboard.
     *
     * @param file the file name
     * @param json the dashboard's JSON model
     */
    public record Dashboard(String file, JsonNode json) {

        public String uid() {
            return json.path("uid").asText("");
        }

        public String title() {
            return json.path("title").asText("");
        }

        /** Every panel, rows' nested panels included, rows themselves excluded. */
        public List<JsonNode> panels() {
            List<JsonNode> panels = new ArrayList<>();
            for (JsonNode panel : json.path("panels")) {
                if ("row".equals(panel.path("type").asText())) {
                    panel.path("panels").forEach(panels::add);
                } else {
                    panels.add(panel);
                }
            }
            return panels;
        }

        /** Every panel id, rows included (ids must be unique across both). */
        public List<Integer> panelIds() {
            List<Integer> ids = new ArrayList<>();
            for (JsonNode panel : json.path("panels")) {
                ids.add(panel.path("id").asInt(-1));
                panel.path("panels").forEach(p -> ids.add(p.path("id").asInt(-1)));
            }
            return ids;
        }

        /** The templating variables, by name. */
        public Map<String, JsonNode> variables() {
            Map<String, JsonNode> variables = new LinkedHashMap<>();
            json.path("templating").path("list").forEach(v -> variables.put(v.path("name").asText(), v));
            return variables;
        }
    }

    private final List<Dashboard> dashboards;
    private final List<Query> ruleQueries;

    private DashboardMetrics(List<Dashboard> dashboards, List<Query> ruleQueries) {
        this.dashboards = List.copyOf(dashboards);
        this.ruleQueries = List.copyOf(ruleQueries);
    }

    /** Loads every {@code *.json} dashboard in {@code directory}. */
    public static DashboardMetrics load(Path directory) {
        List<Dashboard> dashboards = new ArrayList<>();
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".json")).sorted().toList()) {
                dashboards.add(new Dashboard(file.getFileName().toString(), read(JSON, file)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list dashboards in " + directory, e);
        }
        if (dashboards.isEmpty()) {
            throw new IllegalArgumentException("no *.json dashboard in " + directory);
        }
        return new DashboardMetrics(dashboards, List.of());
    }

    /**
     * Loads the repository's dashboards: {@code deploy/grafana/dashboards} in the working directory or the nearest
     * parent that has it, so a test in any module of the reactor finds them.
     */
    public static DashboardMetrics loadFromRepository() {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path at = dir; at != null; at = at.getParent()) {
            Path candidate = at.resolve(REPOSITORY_PATH);
            if (Files.isDirectory(candidate)) {
                return load(candidate);
            }
        }
        throw new IllegalStateException("no " + REPOSITORY_PATH + " in " + dir + " or any parent directory");
    }

    /** The same dashboards plus the expressions of Prometheus rule files ({@code groups[].rules[].expr}). */
    public DashboardMetrics withRules(Collection<Path> ruleFiles) {
        List<Query> rules = new ArrayList<>(ruleQueries);
        for (Path file : ruleFiles) {
            JsonNode root = read(YAML, file);
            // A PrometheusRule custom resource keeps its groups under spec.
            JsonNode groups = root.has("spec") ? root.path("spec").path("groups") : root.path("groups");
            for (JsonNode group : groups) {
                for (JsonNode rule : group.path("rules")) {
                    String name = rule.hasNonNull("alert")
                            ? rule.get("alert").asText()
                            : rule.path("record").asText("?");
                    rules.add(new Query(file.getFileName().toString(), name, rule.path("expr").asText("")));
                }
            }
        }
        return new DashboardMetrics(dashboards, rules);
    }

    public List<Dashboard> dashboards() {
        return dashboards;
    }

    /** A dashboard by file name or uid. */
    public Optional<Dashboard> dashboard(String fileOrUid) {
        return dashboards.stream().filter(d -> d.file().equals(fileOrUid) || d.uid().equals(fileOrUid)).findFirst();
    }

    /** Every expression: the dashboards' panels and variables, then the rules'. */
    public List<Query> queries() {
        List<Query> queries = new ArrayList<>();
        dashboards.forEach(d -> queries.addAll(queries(d)));
        queries.addAll(ruleQueries);
        return queries;
    }

    /** One dashboard's panel expressions and query variables, as written. */
    public static List<Query> queries(Dashboard dashboard) {
        List<Query> queries = new ArrayList<>();
        for (JsonNode panel : dashboard.panels()) {
            for (JsonNode target : panel.path("targets")) {
                String expr = target.path("expr").asText("");
                if (!expr.isBlank()) {
                    queries.add(new Query(dashboard.file(), panel.path("title").asText(""), expr));
                }
            }
        }
        dashboard.variables().forEach((name, variable) -> variableSelector(variable)
                .ifPresent(q -> queries.add(new Query(dashboard.file(), "variable " + name, q))));
        return queries;
    }

    /**
     * One dashboard's panel expressions (variables' own queries left out) with every Grafana variable replaced: first
     * by {@code values}, then by {@link #BUILT_INS}, then by the variable's "All" value, then by {@code .*}. What
     * Prometheus can be asked directly, e.g. {@code $__rate_interval} → {@code 1m}.
     */
    public List<Query> queries(String fileOrUid, Map<String, String> values) {
        Dashboard dashboard = dashboard(fileOrUid)
                .orElseThrow(() -> new IllegalArgumentException("no dashboard " + fileOrUid));
        Map<String, String> resolved = new HashMap<>();
        dashboard.variables().forEach((name, v) -> {
            String all = v.path("allValue").asText("");
            resolved.put(name, all.isEmpty() ? ".*" : all);
        });
        resolved.putAll(BUILT_INS);
        resolved.putAll(values);
        return queries(dashboard).stream().filter(q -> !q.panel().startsWith("variable "))
                .map(q -> new Query(q.source(), q.panel(), substitute(q.expr(), resolved))).toList();
    }

    /** Replaces every Grafana variable reference in {@code expr}; an unknown variable becomes {@code .*}. */
    public static String substitute(String expr, Map<String, String> values) {
        Matcher m = VARIABLE.matcher(expr);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(values.getOrDefault(variableName(m), ".*")));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** The names of the variables {@code expr} refers to. */
    public static List<String> variablesIn(String expr) {
        List<String> names = new ArrayList<>();
        Matcher m = VARIABLE.matcher(expr);
        while (m.find()) {
            names.add(variableName(m));
        }
        return names;
    }

    /**
     * Every metric a query selects that is not in {@code exposed} (e.g. {@link Exposition#metricNames} of every
     * service's {@code /q/metrics}). Empty when every dashboard and rule is served.
     */
    public List<Missing> check(Set<String> exposed) {
        List<Missing> missing = new ArrayList<>();
        for (Query q : queries()) {
            for (String metric : q.metrics()) {
                if (!exposed.contains(metric)) {
                    missing.add(new Missing(q.source(), q.panel(), q.expr(), metric));
                }
            }
        }
        return missing;
    }

    private static String variableName(Matcher m) {
        return m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(3);
    }

    /** The series selector a query variable reads its values from, if it has one. */
    private static Optional<String> variableSelector(JsonNode variable) {
        if (!"query".equals(variable.path("type").asText())) {
            return Optional.empty();
        }
        JsonNode query = variable.path("query");
        String text = query.isObject() ? query.path("query").asText("") : query.asText("");
        Matcher labelValues = LABEL_VALUES.matcher(text);
        if (labelValues.matches()) {
            return Optional.of(labelValues.group(1));
        }
        Matcher result = QUERY_RESULT.matcher(text);
        if (result.matches()) {
            return Optional.of(result.group(1));
        }
        return Optional.empty(); // label_names(), metrics(…), label_values(label): no metric of ours
    }

    private static JsonNode read(ObjectMapper mapper, Path file) {
        try {
            JsonNode node = mapper.readTree(file.toFile());
            if (node == null || !node.isObject()) {
                throw new IllegalArgumentException(file + ": not a " + (mapper == JSON ? "JSON" : "YAML") + " object");
            }
            return node;
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": unreadable: " + e.getMessage(), e);
        }
    }
}
