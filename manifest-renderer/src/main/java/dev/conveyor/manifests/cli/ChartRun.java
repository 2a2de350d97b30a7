package dev.conveyor.manifests.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import com.marcnuri.helm.LintResult;

import dev.conveyor.manifests.client.HelmRenderer;
import dev.conveyor.manifests.client.SchemaLocations;
import dev.conveyor.manifests.domain.ManifestParser;
import dev.conveyor.manifests.domain.ManifestSet;
import dev.conveyor.manifests.domain.Problem;
import dev.conveyor.manifests.domain.ReleaseNamespace;
import dev.conveyor.manifests.domain.RenderedObject;
import dev.conveyor.manifests.domain.SecretRedactor;
import dev.conveyor.manifests.domain.ValidationReport;
import dev.conveyor.manifests.domain.ValidationSettings;
import dev.conveyor.manifests.domain.Validator;
import dev.conveyor.manifests.domain.schema.BuiltinSchemas;
import dev.conveyor.manifests.domain.schema.SchemaRegistry;

/**
 * One chart rendered the way the pipeline renders it: a temporary copy, Helm with hooks and tests, {@code helm lint
 * --strict}, strict validation with the chart's CRDs, the release namespace placed, Secret values redacted, one file
 * per object.
 */
final class ChartRun {

    /** How to render. */
    record Options(List<Path> values, Map<String, String> set, String kubernetesVersion, String namespace,
            String releaseName, List<String> schemaLocations, boolean lint, boolean ignoreMissingSchemas) {
    }

    /** What came out: the files as committed, every problem, Helm lint's messages. */
    record Outcome(String chartName, ManifestSet files, ValidationReport report, List<String> lintErrors) {

        boolean valid() {
            return report.valid() && lintErrors.isEmpty();
        }
    }

    /** Helm refused the chart (template error, dependency that cannot be fetched, ...). */
    static final class RenderFailure extends RuntimeException {
        RenderFailure(String message) {
            super(message);
        }
    }

    static final String COMMON_FLAGS = """
              -f, --values FILE            values file over the chart's values.yaml (repeatable, last wins)
              --set KEY=VALUE              a value (repeatable; dotted keys, as in helm --set)
              --kubernetes-version V       render for and validate against this version (default: the
                                           manifests.kubernetesVersion of the nearest .conveyor.yaml up to the
                                           repository root, else the newest, %s; available: %s)
              --namespace NS               release namespace (default: default)
              --release-name NAME          release name (default: the chart's name)
              --schema-location LOCATION   more schemas, as in 'conveyor validate' (repeatable)
              --ignore-missing-schemas     kinds without a schema are warnings, not errors
              --no-lint                    skip helm lint --strict
            """;

    static String commonFlags() {
        return COMMON_FLAGS.formatted(BuiltinSchemas.newest(), String.join(", ", BuiltinSchemas.bundledVersions()));
    }

    static final java.util.Set<String> BOOLEANS = java.util.Set.of("h", "help", "ignore-missing-schemas", "no-lint");

    static Map<String, String> valued(String... more) {
        Map<String, String> valued = new LinkedHashMap<>();
        valued.put("f", "values");
        valued.put("values", "values");
        valued.put("set", "set");
        valued.put("kubernetes-version", "kubernetes-version");
        valued.put("namespace", "namespace");
        valued.put("n", "namespace");
        valued.put("release-name", "release-name");
        valued.put("schema-location", "schema-location");
        for (String m : more) {
            valued.put(m, m);
        }
        return valued;
    }

    /**
     * The options; without {@code --kubernetes-version}, the {@code manifests.kubernetesVersion} of the nearest
     * {@code .conveyor.yaml} above the chart (up to the git repository's root), as the pipeline would use it.
     */
    static Options options(Args args, Path chart) {
        Map<String, String> set = new LinkedHashMap<>();
        for (String pair : args.values("set")) {
            // helm --set takes comma-separated pairs
            for (String one : pair.split(",(?=[^,=]+=)")) {
                int eq = one.indexOf('=');
                if (eq <= 0) {
                    throw new Args.UsageException("--set needs KEY=VALUE, got " + one);
                }
                set.put(one.substring(0, eq), one.substring(eq + 1));
            }
        }
        List<Path> values = new ArrayList<>();
        for (String v : args.values("values")) {
            values.add(Path.of(v));
        }
        String requested = args.value("kubernetes-version", "");
        String version = ValidateCommand.kubernetesVersion(requested.isEmpty() ? appVersion(chart) : requested);
        return new Options(values, set, version, args.value("namespace", "default"), args.value("release-name", ""),
                args.values("schema-location"), !args.bool("no-lint"), args.bool("ignore-missing-schemas"));
    }

    private static String appVersion(Path chart) {
        Path dir = chart.toAbsolutePath().normalize();
        while (dir != null) {
            Path file = dir.resolve(dev.conveyor.stage.config.ConveyorYaml.FILE_NAME);
            if (Files.isRegularFile(file)) {
                try {
                    String version = dev.conveyor.stage.config.ConveyorYaml.parse(Files.readString(file)).section(
                            "manifests").string("kubernetesVersion").orElse("");
                    if (!version.isEmpty()) {
                        BuiltinSchemas.minor(version);
                    }
                    return version;
                } catch (IOException | RuntimeException e) {
                    throw new Args.UsageException(file + ": manifests.kubernetesVersion: " + e.getMessage());
                }
            }
            if (Files.exists(dir.resolve(".git"))) {
                break;
            }
            dir = dir.getParent();
        }
        return "";
    }

    /** A redactor with {@code CONVEYOR_REDACTION_KEY} when set, else with a key made for this run. */
    static SecretRedactor redactor() {
        String configured = System.getenv("CONVEYOR_REDACTION_KEY");
        byte[] key;
        if (configured != null && configured.length() >= 16) {
            key = configured.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        } else {
            key = new byte[32];
            new SecureRandom().nextBytes(key);
        }
        return new SecretRedactor(key, List.of("Secret"));
    }

    private final HelmRenderer helm = new HelmRenderer();

    /** Renders the chart in {@code chartSource} (left untouched) in a work directory made and removed here. */
    Outcome render(Path chartSource, Options options, SecretRedactor redactor, String shownAs) throws IOException {
        if (!Files.isRegularFile(chartSource.resolve("Chart.yaml"))) {
            throw new java.io.FileNotFoundException(shownAs + ": no Chart.yaml (not a chart directory)");
        }
        Path work = Files.createTempDirectory("conveyor-render-");
        try {
            Path chartDir = work.resolve("chart");
            copy(chartSource, chartDir);
            List<Path> values = new ArrayList<>();
            for (int i = 0; i < options.values().size(); i++) {
                Path copy = work.resolve("values-" + i + ".yaml");
                Files.copy(options.values().get(i), copy);
                values.add(copy);
            }
            String chartName = chartName(chartDir);
            String release = options.releaseName().isEmpty() ? chartName : options.releaseName();
            String output;
            try {
                output = helm.template(new HelmRenderer.Request(chartDir, release, options.namespace(), values, options
                        .kubernetesVersion(), options.set()));
            } catch (HelmRenderer.HelmFailure e) {
                throw new RenderFailure("helm could not render " + shownAs + ": " + e.getMessage().replace(work
                        + "/chart/", "").replace(work.toString(), ""));
            }
            List<String> lintErrors = new ArrayList<>();
            if (options.lint()) {
                LintResult lint = helm.lint(chartDir, values);
                if (lint.isFailed()) {
                    for (String m : lint.getMessages() == null ? List.<String>of() : lint.getMessages()) {
                        if (!m.startsWith("[INFO]")) {
                            lintErrors.add("helm lint --strict: " + m.replace(chartDir.toString(), shownAs));
                        }
                    }
                    if (lintErrors.isEmpty()) {
                        lintErrors.add("helm lint --strict failed");
                    }
                }
            }
            ManifestParser parser = new ManifestParser(ManifestParser.Limits.defaults());
            ManifestParser.Result parsed = parser.parse(output, chartName + "/<rendered>");
            List<SchemaRegistry.SchemaLookup> lookups = new ArrayList<>();
            for (String location : options.schemaLocations()) {
                if (!location.equals("default")) {
                    try {
                        lookups.add(new SchemaLocations(location, options.kubernetesVersion(), true));
                    } catch (IllegalArgumentException e) {
                        throw new Args.UsageException("--schema-location: " + e.getMessage());
                    }
                }
            }
            SchemaRegistry registry = new SchemaRegistry(BuiltinSchemas.load(options.kubernetesVersion()), lookups);
            List<Problem> problems = new ArrayList<>(parsed.problems());
            Path crds = chartSource.resolve("crds");
            if (Files.isDirectory(crds)) {
                try (Stream<Path> files = Files.walk(crds)) {
                    for (Path file : files.filter(Files::isRegularFile).filter(p -> p.toString().matches(
                            ".*\\.(ya?ml|json)$")).sorted().toList()) {
                        ManifestParser.Result crd = parser.parse(Files.readString(file), chartName + "/crds/" + crds
                                .relativize(file));
                        problems.addAll(crd.problems());
                        for (RenderedObject o : crd.objects()) {
                            if ("CustomResourceDefinition".equals(o.kind())) {
                                problems.addAll(registry.addCrd(o));
                            }
                        }
                    }
                }
            }
            ValidationReport report = new Validator(registry, new ValidationSettings(true, options
                    .ignoreMissingSchemas()
                            ? ValidationSettings.MissingSchema.SKIP
                            : ValidationSettings.MissingSchema.ERROR,
                    true)).validate(parsed.objects(), problems);
            List<RenderedObject> placed = parsed.objects().stream().map(o -> ReleaseNamespace.place(o, registry,
                    options.namespace())).toList();
            return new Outcome(chartName, redactor.files(chartName, placed), report, lintErrors);
        } finally {
            delete(work);
        }
    }

    private static String chartName(Path chartDir) throws IOException {
        for (String line : Files.readAllLines(chartDir.resolve("Chart.yaml"))) {
            if (line.startsWith("name:")) {
                return line.substring(5).trim().replaceAll("^[\"']|[\"']$", "");
            }
        }
        throw new RenderFailure("Chart.yaml has no name");
    }

    /** The pipeline's defaults ({@code max-file-bytes}, {@code max-files}). */
    static final long MAX_FILE_BYTES = 4L * 1024 * 1024;
    static final int MAX_FILES = 5000;

    static void copy(Path source, Path target) throws IOException {
        int count = 0;
        try (Stream<Path> files = Files.walk(source)) {
            for (Path file : files.toList()) {
                if (Files.isSymbolicLink(file)) {
                    throw new RenderFailure(source.relativize(file) + " is a symbolic link, which Conveyor refuses in"
                            + " charts");
                }
                Path to = target.resolve(source.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(to);
                } else {
                    // By size before reading: a sparse 1 GiB file costs nothing to make and much to copy or parse.
                    long size = Files.size(file);
                    if (size > MAX_FILE_BYTES) {
                        throw new RenderFailure(source.relativize(file) + " is larger than " + MAX_FILE_BYTES
                                + " bytes (" + size + "), which Conveyor refuses in charts");
                    }
                    if (++count > MAX_FILES) {
                        throw new RenderFailure(source + " holds more than " + MAX_FILES + " files");
                    }
                    Files.copy(file, to);
                }
            }
        }
    }

    static void delete(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory left behind is no failure of the command
        }
    }
}
