package dev.conveyor.manifests.client;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;

import dev.conveyor.stage.helm.HelmSignals;
import dev.conveyor.stage.helm.HookRenaming;
import dev.conveyor.stage.net.OutboundPolicy;

/**
 * Helm, in-process through helm-java (Helm's own Go engine in a native library): {@code helm template} and
 * {@code helm lint --strict} on a chart directory the caller owns (a temporary copy, since the chart's
 * {@code Chart.yaml} is rewritten with the run's version).
 */
public final class HelmRenderer {

    /** Helm refused the chart: a template error, a bad {@code Chart.yaml}, a missing dependency. */
    public static class HelmFailure extends RuntimeException {
        public HelmFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Helm did not finish within the render timeout (a template that loops for minutes). */
    public static final class RenderTimeout extends HelmFailure {
        public RenderTimeout(String message) {
            super(message, null);
        }
    }

    /** The default of {@link #HelmRenderer(Duration)}. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    /**
     * Helm runs on these daemon threads so that a call can be given up on. Helm's Go code cannot be interrupted: a
     * call given up on keeps its thread (and a core) until Go returns; {@link #abandoned()} counts them.
     */
    private static final ExecutorService HELM_THREADS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "helm-call");
        t.setDaemon(true);
        return t;
    });
    private static final AtomicInteger ABANDONED = new AtomicInteger();

    private final Duration timeout;
    private final OutboundPolicy outbound;

    /** With the {@linkplain #DEFAULT_TIMEOUT default timeout}. */
    public HelmRenderer() {
        this(DEFAULT_TIMEOUT);
    }

    /** Each Helm call (template, lint, one dependency build) is given up on after {@code timeout}. */
    public HelmRenderer(Duration timeout) {
        this(timeout, null);
    }

    /**
     * Also checks the URL of every chart dependency Helm would fetch ({@code Chart.yaml} {@code repository}) against
     * {@code outbound} before fetching it; {@code null} checks nothing (the command line, run by the chart's author).
     */
    public HelmRenderer(Duration timeout, OutboundPolicy outbound) {
        this.timeout = timeout;
        this.outbound = outbound;
    }

    /** Helm calls given up on after the timeout that have not returned yet. */
    public static int abandoned() {
        return ABANDONED.get();
    }

    /** Runs one Helm call on a Helm thread, waiting at most the timeout. */
    private <T> T timed(String what, Callable<T> call) {
        java.util.concurrent.atomic.AtomicBoolean givenUp = new java.util.concurrent.atomic.AtomicBoolean();
        Future<T> future = HELM_THREADS.submit(() -> {
            try {
                return call.call();
            } finally {
                if (givenUp.get()) {
                    ABANDONED.decrementAndGet();
                }
            }
        });
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            givenUp.set(true);
            ABANDONED.incrementAndGet();
            future.cancel(true);
            throw new RenderTimeout(what + " did not finish within " + timeout.toSeconds() + " s (render timeout)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            future.cancel(true);
            throw new HelmFailure(what + " interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new HelmFailure(clean(e.getCause().getMessage()), e.getCause());
        }
    }

    /**
     * What to render.
     *
     * @param chartDir the chart directory (holding {@code Chart.yaml})
     * @param releaseName the release name templates see as {@code .Release.Name}
     * @param namespace {@code .Release.Namespace}
     * @param valuesFiles values files applied over the chart's defaults, in order
     * @param kubeVersion the Kubernetes version templates see as {@code .Capabilities.KubeVersion}
     */
    public record Request(Path chartDir, String releaseName, String namespace, List<Path> valuesFiles,
            String kubeVersion, Map<String, String> set) {

        public Request {
            valuesFiles = List.copyOf(valuesFiles);
            set = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(set));
        }

        /** Without {@code --set} values. */
        public Request(Path chartDir, String releaseName, String namespace, List<Path> valuesFiles,
                String kubeVersion) {
            this(chartDir, releaseName, namespace, valuesFiles, kubeVersion, Map.of());
        }
    }

    /**
     * The hook annotation prefix and what it is renamed to while rendering, so Helm files hooks and tests with the
     * release's manifest, which is all helm-java's template returns (see the module README, "Hooks and tests").
     */
    static final String HOOK_PREFIX = HookRenaming.PREFIX;
    static final String HOOK_STAND_IN = HookRenaming.STAND_IN;

    /** Sets {@code version} and {@code appVersion} in the chart's {@code Chart.yaml}; returns the chart's name. */
    public static String setChartVersion(Path chartDir, String version) {
        Path chartYaml = chartDir.resolve("Chart.yaml");
        try {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            options.setMaxAliasesForCollections(10);
            options.setNestingDepthLimit(YamlGuard.MAX_DEPTH);
            Object loaded = new Yaml(new SafeConstructor(options)).load(Files.readString(chartYaml));
            if (!(loaded instanceof Map<?, ?> map)) {
                throw new HelmFailure("Chart.yaml is not a mapping", null);
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> chart = new LinkedHashMap<>((Map<String, Object>) map);
            chart.put("version", version);
            chart.put("appVersion", version);
            DumperOptions dump = new DumperOptions();
            dump.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
            Files.writeString(chartYaml, new Yaml(dump).dump(chart));
            Object name = chart.get("name");
            if (!(name instanceof String text) || text.isBlank()) {
                throw new HelmFailure("Chart.yaml has no name", null);
            }
            return text;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (org.yaml.snakeyaml.error.YAMLException e) {
            throw new HelmFailure("Chart.yaml is not valid YAML: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
    }

    /** Writes a values file with the given dotted keys ({@code image.tag}) as nested, quoted strings. */
    public static Path writeValues(Path file, Map<String, String> dotted) {
        Map<String, Object> root = new LinkedHashMap<>();
        for (Map.Entry<String, String> entry : dotted.entrySet()) {
            String[] parts = entry.getKey().split("\\.");
            Map<String, Object> node = root;
            for (int i = 0; i < parts.length - 1; i++) {
                @SuppressWarnings("unchecked")
                Map<String, Object> next = (Map<String, Object>) node.computeIfAbsent(parts[i],
                        k -> new LinkedHashMap<String, Object>());
                node = next;
            }
            node.put(parts[parts.length - 1], entry.getValue());
        }
        DumperOptions dump = new DumperOptions();
        dump.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        dump.setDefaultScalarStyle(DumperOptions.ScalarStyle.DOUBLE_QUOTED);
        try {
            Files.writeString(file, new Yaml(dump).dump(root));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * {@code helm template}: the rendered multi-document YAML, hooks and tests included with their annotations, as the
     * {@code helm} command prints them. The chart directory (a copy the caller owns) is changed on the way: missing
     * dependencies are built, packaged subcharts unpacked, and the hook annotation renamed (see {@link #HOOK_PREFIX}).
     */
    public String template(Request request) {
        try {
            YamlGuard.checkFile(request.chartDir().resolve("values.yaml"), "values.yaml");
        } catch (YamlGuard.UnsafeYaml e) {
            throw new HelmFailure(e.getMessage(), e);
        }
        timed("helm dependency build", () -> {
            buildDependencies(request.chartDir());
            return null;
        });
        try {
            HookRenaming.prepare(request.chartDir(), request.valuesFiles());
        } catch (HookRenaming.Refused e) {
            throw new HelmFailure(e.getMessage(), e);
        }
        TemplateCommand command = new Helm(request.chartDir()).template().withName(request.releaseName())
                .withNamespace(request.namespace()).withKubeVersion(request.kubeVersion());
        for (Path values : request.valuesFiles()) {
            command = command.withValuesFile(values);
        }
        for (Map.Entry<String, String> set : request.set().entrySet()) {
            command = command.set(HookRenaming.rename(set.getKey()), HookRenaming.rename(set.getValue()));
        }
        TemplateCommand template = command;
        return HookRenaming.restore(timed("helm template", () -> {
            try {
                return template.call();
            } catch (RuntimeException e) {
                throw new HelmFailure(HookRenaming.restore(clean(e.getMessage())), e);
            } finally {
                HelmSignals.takeBack();
            }
        }));
    }

    /** {@code helm lint --strict}: the messages, and whether it failed. */
    public LintResult lint(Path chartDir, List<Path> valuesFiles) {
        // helm-java's lint takes no values files; the chart's defaults must lint on their own, as in `helm lint`.
        return timed("helm lint", () -> {
            try {
                return new Helm(chartDir).lint().strict().call();
            } catch (RuntimeException e) {
                throw new HelmFailure(clean(e.getMessage()), e);
            }
        });
    }

    /**
     * Builds the declared dependencies that are not vendored under {@code charts/} (as a directory or a packaged
     * {@code .tgz}), each on its own, so that a chart with some dependencies vendored and others not renders, and a
     * dependency that cannot be fetched is named with its repository. Locked versions ({@code Chart.lock}) are kept;
     * {@code file://} repositories resolve against the chart directory and work offline.
     */
    void buildDependencies(Path chartDir) {
        List<ChartDependencies.Dependency> missing;
        try {
            missing = ChartDependencies.missing(chartDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (IllegalArgumentException e) {
            throw new HelmFailure(e.getMessage(), e);
        }
        for (ChartDependencies.Dependency dependency : missing) {
            if (outbound != null && dependency.repository().contains("://") && !dependency.repository().startsWith(
                    "file://")) {
                // A repository file names it: the outbound policy decides, before Helm's own client dials it.
                outbound.checkConnect("Chart.yaml dependencies[" + dependency.name() + "].repository", dependency
                        .repository());
            }
            try {
                ChartDependencies.build(chartDir, dependency);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (RuntimeException e) {
                throw new HelmFailure("dependency " + dependency.name() + " " + dependency.version() + " from "
                        + dependency.repository() + " cannot be fetched: " + clean(e.getMessage()), e);
            }
        }
    }

    private static String clean(String message) {
        if (message == null) {
            return "helm failed";
        }
        String trimmed = message.strip();
        return trimmed.length() > 2000 ? trimmed.substring(0, 2000) + "..." : trimmed;
    }
}
