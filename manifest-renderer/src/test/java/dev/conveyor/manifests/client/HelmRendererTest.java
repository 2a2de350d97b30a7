package dev.conveyor.manifests.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.conveyor.manifests.domain.ManifestParser;
import dev.conveyor.manifests.domain.Problem;
import dev.conveyor.manifests.domain.RenderedObject;
import dev.conveyor.manifests.domain.ValidationReport;
import dev.conveyor.manifests.domain.ValidationSettings;
import dev.conveyor.manifests.domain.Validator;
import dev.conveyor.manifests.domain.schema.BuiltinSchemas;
import dev.conveyor.manifests.domain.schema.SchemaRegistry;

/** Real Helm (helm-java) on the charts under {@code src/test/resources/charts}, each rendered from a fresh copy. */
class HelmRendererTest {

    @TempDir
    Path work;

    final HelmRenderer helm = new HelmRenderer();

    @Test
    void hooksAndTestsAreRenderedWithTheirAnnotations() throws Exception {
        Path chart = copy("hooks");
        String output = helm.template(new HelmRenderer.Request(chart, "shop", "prod", List.of(), "1.32.0"));

        List<RenderedObject> objects = parse(output).objects();
        assertThat(objects).extracting(o -> o.kind() + "/" + o.name()).containsExactlyInAnyOrder("Deployment/shop-web",
                "Job/shop-migrate", "Pod/shop-test-connection");
        RenderedObject job = objects.stream().filter(o -> o.kind().equals("Job")).findFirst().orElseThrow();
        assertThat(job.source()).isEqualTo("hooks/templates/migration-job.yaml");
        assertThat(job.body().path("metadata").path("annotations").path("helm.sh/hook").asText()).isEqualTo(
                "pre-install,pre-upgrade");
        assertThat(job.body().path("metadata").path("annotations").path("helm.sh/hook-weight").asText()).isEqualTo(
                "-5");
        assertThat(output).doesNotContain(HelmRenderer.HOOK_STAND_IN);
        assertThat(validate(output).errors()).isEmpty();
    }

    @Test
    void errorsPlantedInTheHookJobAndTheTestPodFailValidation() throws Exception {
        Path chart = copy("hooks");
        String output = helm.template(new HelmRenderer.Request(chart, "shop", "prod", List.of(chart.resolve(
                "broken-values.yaml")), "1.32.0"));

        assertThat(validate(output).errors()).map(Problem::render).containsExactlyInAnyOrder(
                "hooks/templates/migration-job.yaml: Job shop-migrate: spec.backoffLimit: expected integer, got string",
                "hooks/templates/tests/test-connection.yaml: Pod shop-test-connection: spec.restartPolicy: invalid"
                        + " value \"Sometimes\", expected one of [Always, Never, OnFailure]");
    }

    @Test
    void setValuesReachTheHooksToo() throws Exception {
        Path chart = copy("hooks");
        String output = helm.template(new HelmRenderer.Request(chart, "shop", "prod", List.of(), "1.32.0",
                java.util.Map.of("test.restartPolicy", "Sometimes")));

        assertThat(validate(output).errors()).map(Problem::render).containsExactly(
                "hooks/templates/tests/test-connection.yaml: Pod shop-test-connection: spec.restartPolicy: invalid"
                        + " value \"Sometimes\", expected one of [Always, Never, OnFailure]");
    }

    @Test
    void dependenciesNotVendoredAreBuiltBesideTheVendoredOnes() throws Exception {
        Path chart = copy("partial-deps");
        String output = helm.template(new HelmRenderer.Request(chart, "shop", "prod", List.of(), "1.32.0"));

        assertThat(parse(output).objects()).extracting(o -> o.kind() + "/" + o.name()).containsExactlyInAnyOrder(
                "ConfigMap/shop-parent", "ConfigMap/shop-vendored", "ConfigMap/shop-fetched",
                // the built dependency's own hook, from its packaged archive
                "Job/shop-fetched-hook");
        assertThat(validate(output).errors()).isEmpty();
    }

    @Test
    void aDependencyThatCannotBeFetchedNamesItselfAndItsRepository() throws Exception {
        Path chart = copy("unfetchable");

        assertThatThrownBy(() -> helm.template(new HelmRenderer.Request(chart, "shop", "prod", List.of(),
                "1.32.0"))).isInstanceOf(HelmRenderer.HelmFailure.class).hasMessageStartingWith(
                        "dependency gone 1.0.0 from http://127.0.0.1:9/charts cannot be fetched: ");
    }

    private Path copy(String name) throws IOException, URISyntaxException {
        Path source = Path.of(getClass().getResource("/charts/" + name).toURI());
        Path target = work.resolve(name);
        try (Stream<Path> files = Files.walk(source)) {
            for (Path file : files.toList()) {
                Path to = target.resolve(source.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(file, to);
                }
            }
        }
        return target;
    }

    private static ManifestParser.Result parse(String output) {
        return new ManifestParser(ManifestParser.Limits.defaults()).parse(output, "<rendered>");
    }

    private static ValidationReport validate(String output) {
        ManifestParser.Result parsed = parse(output);
        return new Validator(new SchemaRegistry(BuiltinSchemas.load("1.32"), List.of()), ValidationSettings
                .strictDefaults()).validate(parsed.objects(), parsed.problems());
    }
}
