package dev.conveyor.manifests.client;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;

/**
 * Helm, in-process through helm-java (Helm's own Go engine in a native library): {@code helm template} and
 * {@code helm lint --strict} on a chart directory the caller owns (a temporary copy, since the chart's
 * {@code Chart.yaml} is rewritten with the run's version).
 */
public final class HelmRenderer {

    /** Helm refused the chart: a template error, a bad {@code Chart.yaml}, a missing dependency. */
    public static final class HelmFailure extends RuntimeException {
        public HelmFailure(String message, Throwable cause) {
            super(message, cause);
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
            String kubeVersion) {
    }

    /** Sets {@code version} and {@code appVersion} in the chart's {@code Chart.yaml}; returns the chart's name. */
    public static String setChartVersion(Path chartDir, String version) {
        Path chartYaml = chartDir.resolve("Chart.yaml");
        try {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            options.setMaxAliasesForCollections(10);
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

    /** {@code helm template}; the rendered multi-document YAML. */
    public String template(Request request) {
        buildDependencies(request.chartDir());
        TemplateCommand command = new Helm(request.chartDir()).template().withName(request.releaseName())
                .withNamespace(request.namespace()).withKubeVersion(request.kubeVersion());
        for (Path values : request.valuesFiles()) {
            command = command.withValuesFile(values);
        }
        try {
            return command.call();
        } catch (RuntimeException e) {
            throw new HelmFailure(clean(e.getMessage()), e);
        }
    }

    /** {@code helm lint --strict}: the messages, and whether it failed. */
    public LintResult lint(Path chartDir, List<Path> valuesFiles) {
        try {
            // helm-java's lint takes no values files; the chart's defaults must lint on their own, as in `helm lint`.
            return new Helm(chartDir).lint().strict().call();
        } catch (RuntimeException e) {
            throw new HelmFailure(clean(e.getMessage()), e);
        }
    }

    /** Fetches declared dependencies that are not vendored under {@code charts/} (file:// ones work offline). */
    static void buildDependencies(Path chartDir) {
        try {
            String chartYaml = Files.readString(chartDir.resolve("Chart.yaml"));
            if (!chartYaml.contains("dependencies:")) {
                return;
            }
            Path charts = chartDir.resolve("charts");
            List<String> vendored = new ArrayList<>();
            if (Files.isDirectory(charts)) {
                try (var list = Files.list(charts)) {
                    list.forEach(p -> vendored.add(p.getFileName().toString()));
                }
            }
            if (vendored.isEmpty()) {
                // With a lock file the locked versions are fetched; without one they are resolved first.
                if (Files.exists(chartDir.resolve("Chart.lock"))) {
                    new Helm(chartDir).dependency().build().call();
                } else {
                    new Helm(chartDir).dependency().update().call();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            throw new HelmFailure("chart dependencies cannot be built: " + clean(e.getMessage()), e);
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
