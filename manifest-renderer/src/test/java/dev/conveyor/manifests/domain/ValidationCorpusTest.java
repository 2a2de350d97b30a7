package dev.conveyor.manifests.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.conveyor.manifests.client.SchemaLocations;
import dev.conveyor.manifests.domain.schema.BuiltinSchemas;
import dev.conveyor.manifests.domain.schema.SchemaRegistry;

/**
 * The validation corpus: each file under {@code src/test/resources/corpus} is one case, a set of manifests with the
 * exact problems expected as {@code #! } lines ({@code #! none} for a valid case), optional {@code #settings: lax} (not
 * strict) or {@code #settings: skip-missing}, and {@code #warnings: n}.
 */
class ValidationCorpusTest {

    static final BuiltinSchemas BUILTINS = BuiltinSchemas.load("1.32");

    static Stream<Path> cases() throws IOException, URISyntaxException {
        Path dir = Path.of(ValidationCorpusTest.class.getResource("/corpus").toURI());
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList().stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void reportsExactlyTheExpectedProblems(Path file) throws Exception {
        String text = Files.readString(file);
        List<String> expected = new ArrayList<>();
        boolean strict = true;
        var missing = ValidationSettings.MissingSchema.ERROR;
        int warnings = 0;
        for (String line : text.lines().toList()) {
            if (line.startsWith("#! ") && !line.equals("#! none")) {
                expected.add(line.substring(3));
            } else if (line.equals("#settings: lax")) {
                strict = false;
            } else if (line.equals("#settings: skip-missing")) {
                missing = ValidationSettings.MissingSchema.SKIP;
            } else if (line.startsWith("#warnings: ")) {
                warnings = Integer.parseInt(line.substring(11));
            }
        }
        assertThat(text).as("a case states its expectation").containsPattern("(?m)^#! ");
        Path locations = Path.of(getClass().getResource("/schema-locations").toURI());
        SchemaRegistry registry = new SchemaRegistry(BUILTINS, List.of(new SchemaLocations(locations
                + "/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json", "1.32", strict)));
        ManifestParser.Result parsed = new ManifestParser(ManifestParser.Limits.defaults()).parse(text, "case");
        ValidationReport report = new Validator(registry, new ValidationSettings(strict, missing, true)).validate(
                parsed.objects(), parsed.problems());

        assertThat(report.errors()).map(Problem::render).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(report.warnings()).hasSize(warnings);
    }
}
