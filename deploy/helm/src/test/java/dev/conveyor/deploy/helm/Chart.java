package dev.conveyor.deploy.helm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;

import dev.conveyor.manifests.domain.ManifestParser;
import dev.conveyor.manifests.domain.Problem;
import dev.conveyor.manifests.domain.RenderedObject;
import dev.conveyor.manifests.domain.ValidationReport;
import dev.conveyor.manifests.domain.ValidationSettings;
import dev.conveyor.manifests.domain.Validator;
import dev.conveyor.manifests.domain.schema.BuiltinSchemas;
import dev.conveyor.manifests.domain.schema.SchemaRegistry;

/**
 * The chart under test: renders it in-process with helm-java (Helm's own engine, as manifest-renderer does) and
 * validates the output with manifest-renderer's validator, strict, against Kubernetes 1.32 plus the CRDs of the chart's
 * {@code crds/} and of {@code src/test/resources/crds} (Strimzi, prometheus-operator).
 */
final class Chart {

    /** The chart directory; Maven runs tests in the module directory. */
    static final Path DIR = Path.of("conveyor").toAbsolutePath();
    /** The repository root, for the services' configuration and the testkit's CRDs. */
    static final Path REPO = Path.of("../..").toAbsolutePath().normalize();
    static final String RELEASE = "conveyor";
    static final String NAMESPACE = "conveyor";
    static final String KUBERNETES_VERSION = "1.32";

    private static final BuiltinSchemas BUILTINS = BuiltinSchemas.load(KUBERNETES_VERSION);
    private static final ManifestParser PARSER = new ManifestParser(ManifestParser.Limits.defaults());

    /** A render's output, its objects and their validation. */
    record Rendered(String output, List<RenderedObject> objects, ValidationReport report) {

        List<RenderedObject> ofKind(String kind) {
            return objects.stream().filter(o -> o.kind().equals(kind)).toList();
        }

        RenderedObject get(String kind, String name) {
            return objects.stream().filter(o -> o.kind().equals(kind) && o.name().equals(name)).findFirst()
                    .orElseThrow(() -> new AssertionError("no " + kind + " " + name + " among " + objects.stream()
                            .map(o -> o.kind() + "/" + o.name()).toList()));
        }
    }

    private Chart() {
    }

    /** {@code helm template} with these values files and {@code --set}s, validated. */
    static Rendered render(List<Path> valuesFiles, Map<String, Object> sets) {
        TemplateCommand template = new Helm(DIR).template().withName(RELEASE).withNamespace(NAMESPACE)
                .withKubeVersion(KUBERNETES_VERSION + ".0").skipCrds();
        for (Path values : valuesFiles) {
            template = template.withValuesFile(values);
        }
        for (Map.Entry<String, Object> set : sets.entrySet()) {
            template = template.set(set.getKey(), set.getValue());
        }
        String output = template.call();
        ManifestParser.Result parsed = PARSER.parse(output, "conveyor/<rendered>");
        SchemaRegistry registry = new SchemaRegistry(BUILTINS, List.of());
        List<Problem> problems = new ArrayList<>(parsed.problems());
        for (Path crdFile : crdFiles()) {
            ManifestParser.Result crds = PARSER.parse(read(crdFile), REPO.relativize(crdFile).toString());
            problems.addAll(crds.problems());
            for (RenderedObject crd : crds.objects()) {
                problems.addAll(registry.addCrd(crd));
            }
            // The chart's own CRDs are objects it installs: they are validated like the rest.
            if (crdFile.startsWith(DIR)) {
                problems.addAll(new Validator(registry, ValidationSettings.strictDefaults()).validate(crds
                        .objects(), List.of()).errors());
            }
        }
        ValidationReport report = new Validator(registry, ValidationSettings.strictDefaults()).validate(parsed
                .objects(), problems);
        return new Rendered(output, parsed.objects(), report);
    }

    static Rendered render(Map<String, Object> sets) {
        return render(List.of(), sets);
    }

    /** The chart's {@code crds/} and the test's CRDs of the operators the chart relies on. */
    static List<Path> crdFiles() {
        List<Path> files = new ArrayList<>();
        for (Path dir : List.of(DIR.resolve("crds"), Path.of("src/test/resources/crds").toAbsolutePath())) {
            try (Stream<Path> list = Files.list(dir)) {
                list.filter(p -> p.toString().endsWith(".yaml")).sorted().forEach(files::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return files;
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
