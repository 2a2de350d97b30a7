package dev.conveyor.testkit.prometheus;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.conveyor.testkit.Binaries;
import dev.conveyor.testkit.Ports;
import dev.conveyor.testkit.ServerProcesses;
import dev.conveyor.testkit.TempDirs;

/**
 * A real Prometheus: Debian's {@code prometheus} run as a child process on a free loopback port, scraping the given
 * targets every second, with its TSDB in a unique temporary directory.
 *
 * <p>
 * {@link #query(String)} asks the HTTP API ({@code /api/v1/query}) and returns the samples; a query Prometheus rejects
 * (bad PromQL) fails with Prometheus' own message, so tests can also check that expressions parse.
 * {@link #awaitTargetsUp(Duration)} waits until every target was scraped successfully. The process writes its output
 * to {@link #logFile()}; failures include its tail. {@link #close()} stops the process and deletes the directory.
 */
public final class PrometheusServer implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    private static final int START_ATTEMPTS = 3;
    private static final Pattern JOB_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_-]*");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path root;
    private final Process process;
    private final int port;
    private final Path log;
    private final List<Target> targets;
    private final HttpClient http;
    private final Thread shutdownHook;

    /**
     * One scrape target.
     *
     * @param job the {@code job} label of its series, e.g. the service name
     * @param address {@code host:port}
     * @param metricsPath the path Prometheus scrapes, {@code /q/metrics} for Quarkus services
     */
    public record Target(String job, String address, String metricsPath) {

        public Target {
            Objects.requireNonNull(job, "job");
            Objects.requireNonNull(address, "address");
            Objects.requireNonNull(metricsPath, "metricsPath");
            if (!JOB_NAME.matcher(job).matches()) {
                throw new IllegalArgumentException("job name '" + job + "' must match " + JOB_NAME);
            }
            if (!address.matches("[^\\s/:]+:\\d+")) {
                throw new IllegalArgumentException("address '" + address + "' must be host:port");
            }
            if (!metricsPath.startsWith("/")) {
                throw new IllegalArgumentException("metrics path '" + metricsPath + "' must start with /");
            }
        }

        /** A Quarkus service: {@code /q/metrics} on {@code address}. */
        public static Target quarkus(String job, String address) {
            return new Target(job, address, "/q/metrics");
        }
    }

    /**
     * One sample of a query result.
     *
     * @param labels the series' labels ({@code __name__} included when the result keeps it); empty for a scalar
     * @param value the value ({@code NaN} and infinities as Prometheus reports them)
     */
    public record Sample(Map<String, String> labels, double value) {
    }

    /** A target's state as Prometheus last saw it. */
    public record TargetHealth(String job, String scrapeUrl, String health, String lastError) {
    }

    private PrometheusServer(Path root, Process process, int port, Path log, List<Target> targets, HttpClient http) {
        this.root = root;
        this.process = process;
        this.port = port;
        this.log = log;
        this.targets = List.copyOf(targets);
        this.http = http;
        this.shutdownHook = new Thread(process::destroy, "prometheus-shutdown-" + port);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** Starts Prometheus scraping {@code targets} every second and waits until {@code /-/ready} answers 200. */
    public static PrometheusServer start(List<Target> targets) {
        return start(targets, List.of());
    }

    /**
     * Starts Prometheus scraping {@code targets} every second and evaluating {@code ruleFiles} (Prometheus rule files)
     * every second, and waits until {@code /-/ready} answers 200.
     */
    public static PrometheusServer start(List<Target> targets, List<Path> ruleFiles) {
        Path binary = Binaries.require("prometheus", "prometheus");
        Path root = TempDirs.create("prometheus");
        HttpClient http = HttpClient.newBuilder().connectTimeout(REQUEST_TIMEOUT).build();
        // Another JVM may take the free port before Prometheus binds it: retry with a new one.
        return ServerProcesses.startOnFreePort(root, START_ATTEMPTS, attempt -> {
            int port = Ports.free();
            Path log = root.resolve("prometheus-" + attempt + ".log");
            return new PrometheusServer(root, launch(binary, root, port, log, targets, ruleFiles), port, log, targets,
                    http);
        }, PrometheusServer::awaitReady, PrometheusServer::stopProcess, PrometheusServer::logTail);
    }

    /** The Prometheus configuration for {@code targets}: one job per target, 1 s interval. */
    static String config(List<Target> targets, List<Path> ruleFiles) {
        StringBuilder yaml = new StringBuilder();
        yaml.append("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n");
        if (!ruleFiles.isEmpty()) {
            yaml.append("rule_files:\n");
            ruleFiles.forEach(f -> yaml.append("  - ").append(quoted(f.toAbsolutePath().toString())).append('\n'));
        }
        yaml.append("scrape_configs:\n");
        if (targets.isEmpty()) {
            yaml.append("  []\n");
        }
        for (Target target : targets) {
            yaml.append("  - job_name: ").append(quoted(target.job())).append('\n');
            yaml.append("    metrics_path: ").append(quoted(target.metricsPath())).append('\n');
            yaml.append("    static_configs:\n      - targets: [").append(quoted(target.address())).append("]\n");
        }
        return yaml.toString();
    }

    private static Process launch(Path binary, Path root, int port, Path log, List<Target> targets,
            List<Path> ruleFiles) {
        try {
            Path data = Files.createDirectories(root.resolve("data-" + port));
            Path configFile = root.resolve("prometheus-" + port + ".yml");
            Files.writeString(configFile, config(targets, ruleFiles));
            return new ProcessBuilder(binary.toString(), "--config.file=" + configFile,
                    "--storage.tsdb.path=" + data, "--web.listen-address=127.0.0.1:" + port,
                    "--storage.tsdb.retention.time=1d", "--log.level=warn")
                    .directory(root.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start prometheus", e);
        }
    }

    private static String quoted(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException("prometheus exited with code " + process.exitValue()
                        + " before it was ready on " + url() + ". Log tail:\n" + logTail());
            }
            try {
                HttpResponse<Void> response = http.send(HttpRequest.newBuilder(URI.create(url() + "/-/ready"))
                        .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // Not listening yet.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for prometheus", e);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("prometheus was not ready within " + START_TIMEOUT + " on " + url()
                        + ". Log tail:\n" + logTail());
            }
            pace();
        }
    }

    /** Polling a local port: waiting on the process for a moment paces the loop and notices an early exit. */
    private void pace() {
        try {
            process.waitFor(50, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for prometheus", e);
        }
    }

    /** {@code http://127.0.0.1:<port>}. */
    public String url() {
        return "http://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public List<Target> targets() {
        return targets;
    }

    public Path logFile() {
        return log;
    }

    /**
     * Evaluates {@code promql} now (an instant query) and returns its samples: one per series of a vector, one without
     * labels for a scalar. Fails with Prometheus' error message when it rejects the query.
     */
    public List<Sample> query(String promql) {
        JsonNode data = api("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8), promql);
        String type = data.path("resultType").asText();
        List<Sample> samples = new ArrayList<>();
        switch (type) {
            case "vector" -> data.path("result").forEach(r -> samples.add(new Sample(labels(r.path("metric")),
                    value(r.path("value")))));
            case "scalar" -> samples.add(new Sample(Map.of(), value(data.path("result"))));
            case "matrix" -> data.path("result").forEach(r -> {
                JsonNode values = r.path("values");
                if (!values.isEmpty()) {
                    samples.add(new Sample(labels(r.path("metric")), value(values.get(values.size() - 1))));
                }
            });
            default -> throw new IllegalStateException("query '" + promql + "' returned a " + type
                    + ", not a vector or scalar");
        }
        return samples;
    }

    /** Every target's health as Prometheus last saw it. */
    public List<TargetHealth> targetHealth() {
        List<TargetHealth> health = new ArrayList<>();
        for (JsonNode t : api("/api/v1/targets?state=active", "targets").path("activeTargets")) {
            health.add(new TargetHealth(t.path("labels").path("job").asText(), t.path("scrapeUrl").asText(),
                    t.path("health").asText(), t.path("lastError").asText("")));
        }
        return health;
    }

    /**
     * Waits until every target was scraped successfully ({@code health = up}); fails naming each target that is not,
     * with its last scrape error.
     */
    public void awaitTargetsUp(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<TargetHealth> health = targetHealth();
            if (health.size() == targets.size() && health.stream().allMatch(h -> h.health().equals("up"))) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("prometheus targets not up within " + timeout + ": " + health
                        .stream().filter(h -> !h.health().equals("up"))
                        .map(h -> h.job() + " " + h.scrapeUrl() + " " + h.health() + " " + h.lastError()).toList()
                        + " (" + health.size() + " of " + targets.size() + " targets known)");
            }
            pace();
        }
    }

    private JsonNode api(String pathAndQuery, String what) {
        HttpResponse<String> response;
        try {
            response = http.send(HttpRequest.newBuilder(URI.create(url() + pathAndQuery)).timeout(REQUEST_TIMEOUT)
                    .GET().build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException("prometheus " + url() + " did not answer. Log tail:\n" + logTail(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking prometheus", e);
        }
        JsonNode body;
        try {
            body = JSON.readTree(response.body());
        } catch (IOException e) {
            throw new IllegalStateException("prometheus answered " + response.statusCode() + " with no JSON for "
                    + what + ": " + response.body());
        }
        if (!"success".equals(body.path("status").asText())) {
            throw new IllegalArgumentException("prometheus rejected '" + what + "': " + body.path("errorType")
                    .asText() + ": " + body.path("error").asText());
        }
        return body.path("data");
    }

    private static Map<String, String> labels(JsonNode metric) {
        Map<String, String> labels = new LinkedHashMap<>();
        metric.fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
        return Map.copyOf(labels);
    }

    /** {@code [ <unix time>, "<value>" ]}; Prometheus writes NaN and infinities as {@code NaN}, {@code +Inf}. */
    private static double value(JsonNode pair) {
        String text = pair.path(1).asText();
        return switch (text) {
            case "NaN" -> Double.NaN;
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(text);
        };
    }

    /** The last lines of the current process' log. */
    public String logTail() {
        return ServerProcesses.logTail(log, 30);
    }

    private void stopProcess() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // The JVM is already shutting down; the hook runs anyway.
        }
        ServerProcesses.stop(process, STOP_TIMEOUT);
    }

    /** Stops Prometheus and deletes its configuration and data. */
    @Override
    public void close() {
        stopProcess();
        TempDirs.deleteQuietly(root);
    }
}
