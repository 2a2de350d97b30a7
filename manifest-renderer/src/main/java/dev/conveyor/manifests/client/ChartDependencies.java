package dev.conveyor.manifests.client;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import com.marcnuri.helm.Helm;

/**
 * A chart's declared dependencies ({@code Chart.yaml}) against what is vendored under {@code charts/}, and the build of
 * one missing dependency on its own: in a scratch chart declaring only it (its locked version when {@code Chart.lock}
 * has one), whose fetched archive is then moved into the chart's {@code charts/}. One at a time, so that a failure
 * names the dependency and its repository, and the vendored ones are never fetched again.
 */
final class ChartDependencies {

    /** One declared dependency: its chart name, version (locked when a lock names it) and repository. */
    record Dependency(String name, String version, String repository) {
    }

    private static final Pattern ARCHIVE = Pattern.compile("^(.+?)-(v?\\d+\\.\\d+\\.\\d+.*)\\.tgz$");

    private ChartDependencies() {
    }

    /** The declared dependencies that are in no form under {@code charts/}. */
    static List<Dependency> missing(Path chartDir) throws IOException {
        Map<String, Object> chart = load(chartDir.resolve("Chart.yaml"));
        List<Map<String, Object>> declared = list(chart.get("dependencies"), "Chart.yaml dependencies");
        if (declared.isEmpty()) {
            return List.of();
        }
        Map<String, String> locked = new LinkedHashMap<>();
        Path lock = chartDir.resolve("Chart.lock");
        if (Files.isRegularFile(lock)) {
            for (Map<String, Object> entry : list(load(lock).get("dependencies"), "Chart.lock dependencies")) {
                locked.put(text(entry.get("name")) + "@" + text(entry.get("repository")), text(entry.get("version")));
            }
        }
        Set<String> vendored = vendored(chartDir.resolve("charts"));
        List<Dependency> missing = new ArrayList<>();
        for (Map<String, Object> entry : declared) {
            String name = text(entry.get("name"));
            if (name.isEmpty()) {
                throw new IllegalArgumentException("Chart.yaml: a dependency has no name");
            }
            if (vendored.contains(name)) {
                continue;
            }
            String repository = text(entry.get("repository"));
            if (repository.isEmpty()) {
                throw new IllegalArgumentException("dependency " + name + " is not vendored under charts/ and has no "
                        + "repository to fetch it from");
            }
            if (repository.startsWith("file://")) {
                // Only the chart directory is copied out: a dependency must be inside it, never elsewhere on the host.
                Path root = chartDir.toAbsolutePath().normalize();
                String relative = repository.substring("file://".length());
                Path target = root.resolve(relative).normalize();
                if (relative.startsWith("/") || java.util.Arrays.asList(relative.split("/")).contains("..")
                        || !target.startsWith(root)) {
                    throw new IllegalArgumentException("Chart.yaml dependencies[" + name + "].repository " + repository
                            + " leaves the chart directory; vendor the dependency under charts/ or use a path "
                            + "inside the chart");
                }
            }
            String version = locked.getOrDefault(name + "@" + repository, text(entry.get("version")));
            missing.add(new Dependency(name, version, repository));
        }
        return missing;
    }

    /** Fetches one dependency into {@code chartDir/charts}. */
    static void build(Path chartDir, Dependency dependency) throws IOException {
        Path scratch = Files.createTempDirectory(chartDir.toAbsolutePath().getParent(), "dependency-");
        try {
            String repository = dependency.repository();
            if (repository.startsWith("file://")) {
                // Relative to the chart, not to the scratch chart that fetches it.
                Path target = chartDir.toAbsolutePath().resolve(repository.substring("file://".length())).normalize();
                repository = "file://" + target;
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", dependency.name());
            if (!dependency.version().isEmpty()) {
                entry.put("version", dependency.version());
            }
            entry.put("repository", repository);
            Map<String, Object> chart = new LinkedHashMap<>();
            chart.put("apiVersion", "v2");
            chart.put("name", "conveyor-dependency-fetch");
            chart.put("version", "0.0.0");
            chart.put("dependencies", List.of(entry));
            DumperOptions dump = new DumperOptions();
            dump.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
            Files.writeString(scratch.resolve("Chart.yaml"), new Yaml(dump).dump(chart));
            new Helm(scratch).dependency().update().call();
            Path fetched = scratch.resolve("charts");
            Path charts = Files.createDirectories(chartDir.resolve("charts"));
            boolean any = false;
            if (Files.isDirectory(fetched)) {
                try (Stream<Path> files = Files.list(fetched)) {
                    for (Path file : files.toList()) {
                        Files.move(file, charts.resolve(file.getFileName().toString()));
                        any = true;
                    }
                }
            }
            if (!any) {
                throw new IllegalStateException("helm fetched nothing");
            }
        } finally {
            delete(scratch);
        }
    }

    /** Chart names under {@code charts/}: directories by their {@code Chart.yaml}, archives by their file name. */
    private static Set<String> vendored(Path charts) throws IOException {
        Set<String> names = new HashSet<>();
        if (!Files.isDirectory(charts)) {
            return names;
        }
        try (Stream<Path> list = Files.list(charts)) {
            for (Path entry : list.toList()) {
                String file = entry.getFileName().toString();
                if (Files.isDirectory(entry) && Files.isRegularFile(entry.resolve("Chart.yaml"))) {
                    String name = text(load(entry.resolve("Chart.yaml")).get("name"));
                    names.add(name.isEmpty() ? file : name);
                } else if (file.endsWith(".tgz")) {
                    Matcher m = ARCHIVE.matcher(file);
                    names.add(m.matches() ? m.group(1) : file.substring(0, file.length() - 4));
                }
            }
        }
        return names;
    }

    private static Map<String, Object> load(Path file) throws IOException {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(10);
        options.setNestingDepthLimit(YamlGuard.MAX_DEPTH);
        try {
            Object loaded = new Yaml(new SafeConstructor(options)).load(Files.readString(file));
            if (loaded == null) {
                return Map.of();
            }
            if (!(loaded instanceof Map<?, ?> map)) {
                throw new IllegalArgumentException(file.getFileName() + " is not a mapping");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> typed = (Map<String, Object>) map;
            return typed;
        } catch (org.yaml.snakeyaml.error.YAMLException e) {
            throw new IllegalArgumentException(file.getFileName() + " is not valid YAML: " + e.getMessage().lines()
                    .findFirst().orElse(""), e);
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Object value, String what) {
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> items) || items.stream().anyMatch(i -> !(i instanceof Map))) {
            throw new IllegalArgumentException(what + " must be a list of mappings");
        }
        return (List<Map<String, Object>>) items;
    }

    private static String text(Object value) {
        return value == null ? "" : value.toString().trim();
    }

    static void delete(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
