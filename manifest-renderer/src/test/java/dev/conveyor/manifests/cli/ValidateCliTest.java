package dev.conveyor.manifests.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * {@code conveyor validate} run as a separate process on the fixture folder {@code src/test/resources/cli}: output and
 * exit code of each flag and output format.
 */
class ValidateCliTest {

    static Path fixtures;

    @BeforeAll
    static void fixtures() throws Exception {
        fixtures = Path.of(ValidateCliTest.class.getResource("/cli").toURI());
    }

    static CliProcess.Run validate(String... args) {
        List<String> all = new java.util.ArrayList<>(List.of("validate"));
        all.addAll(List.of(args));
        return CliProcess.run(fixtures, all);
    }

    static final String BROKEN_REPLICAS = "invalid/two-problems.yaml (document 2, line 8) - Deployment broken is"
            + " invalid: spec.replicas: expected integer, got string";
    static final String BROKEN_RESTART = "invalid/two-problems.yaml (document 2, line 8) - Deployment broken is"
            + " invalid: spec.template.spec.restartPolicy: invalid value \"Sometimes\", expected one of [Always, Never,"
            + " OnFailure]";

    @Test
    void aValidFolderOfYamlJsonListsAndStreamsExitsZeroAndSaysNothing() {
        CliProcess.Run run = validate("valid");
        assertThat(run.exit()).isZero();
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).isEmpty();
    }

    @Test
    void summaryCountsResourcesAndFiles() {
        CliProcess.Run run = validate("-summary", "valid");
        assertThat(run.exit()).isZero();
        assertThat(run.out()).isEqualTo(
                "Summary: 5 resources found in 3 files - Valid: 5, Invalid: 0, Errors: 0, Skipped: 0\n");
    }

    @Test
    void verboseListsEveryResourceWithItsDocumentAndLine() {
        CliProcess.Run run = validate("--verbose", "valid/deployment.yaml", "valid/nested");
        assertThat(run.exit()).isZero();
        assertThat(run.out().lines()).containsExactly(
                "valid/deployment.yaml (document 1, line 1) - Deployment web is valid",
                "valid/deployment.yaml (document 2, line 20) - Service web is valid",
                "valid/nested/configmap.json (document 1, line 1) - ConfigMap settings is valid",
                "valid/nested/list.yml (document 1, line 1) - ServiceAccount web is valid",
                "valid/nested/list.yml (document 1, line 1) - ConfigMap extra is valid");
    }

    @Test
    void anInvalidResourceExitsOneWithEveryProblem() {
        CliProcess.Run run = validate("invalid");
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out().lines()).containsExactly(BROKEN_REPLICAS, BROKEN_RESTART);
    }

    @Test
    void unknownFieldsAreErrorsOnlyWithStrict() {
        assertThat(validate("unknown-field.yaml").exit()).isZero();
        CliProcess.Run strict = validate("-strict", "unknown-field.yaml");
        assertThat(strict.exit()).isEqualTo(1);
        assertThat(strict.out()).isEqualTo("unknown-field.yaml (document 1, line 1) - ConfigMap typo is invalid:"
                + " metadata.labesl: unknown field \"labesl\"\n");
        assertThat(validate("-strict=false", "unknown-field.yaml").exit()).isZero();
    }

    @Test
    void duplicateKeysAreErrorsInEveryMode() {
        String expected = "duplicate-key.yaml (document 1, line 1) - ConfigMap dup is invalid: data.a: duplicate key"
                + " \"a\" (line 7)\n";
        for (CliProcess.Run run : List.of(validate("duplicate-key.yaml"), validate("-strict", "duplicate-key.yaml"))) {
            assertThat(run.exit()).isEqualTo(1);
            assertThat(run.out()).isEqualTo(expected);
        }
    }

    @Test
    void identicalDocumentsAreToldApartByTheirIndex() {
        CliProcess.Run run = validate("twins.yaml");
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out()).isEqualTo("twins.yaml (document 2, line 7) - ConfigMap twin is invalid: duplicate"
                + " object: another ConfigMap has the same name\n");
    }

    @Test
    void missingSchemasFailUnlessIgnored() {
        CliProcess.Run run = validate("canary.yaml");
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out()).isEqualTo("canary.yaml (document 1, line 1) - Canary c failed validation: could not"
                + " find schema for Canary (example.com/v1alpha1)\n");
        CliProcess.Run ignored = validate("-ignore-missing-schemas", "-summary", "canary.yaml");
        assertThat(ignored.exit()).isZero();
        assertThat(ignored.out()).isEqualTo(
                "Summary: 1 resource found in 1 file - Valid: 0, Invalid: 0, Errors: 0, Skipped: 1\n");
    }

    @Test
    void schemaLocationTemplatesGiveCustomResourcesTheirSchema(@TempDir Path tmp) throws Exception {
        String template = fixtures.getParent().resolve("schema-locations")
                + "/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json";
        assertThat(validate("-schema-location", template, "canary.yaml").exit()).isZero();
        Path bad = tmp.resolve("canary.yaml");
        Files.writeString(bad, Files.readString(fixtures.resolve("canary.yaml")).replace("weight: 10",
                "weight: ten"));
        CliProcess.Run run = validate("-schema-location=" + template, bad.toString());
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out()).contains("Canary c is invalid: spec.weight: expected integer");
        // a plain directory is laid out as kubernetes-json-schema: <version>-standalone<-strict>/<kind><suffix>.json
        Path dir = tmp.resolve("schemas/v" + dev.conveyor.manifests.domain.schema.BuiltinSchemas.newest()
                + ".0-standalone");
        Files.createDirectories(dir);
        Files.copy(fixtures.getParent().resolve("schema-locations/example.com/canary_v1alpha1.json"), dir.resolve(
                "canary-example-v1alpha1.json"));
        assertThat(validate("-schema-location", tmp.resolve("schemas").toString(), "canary.yaml").exit()).isZero();
        assertThat(validate("-schema-location", tmp.resolve("schemas").toString(), bad.toString()).exit())
                .isEqualTo(1);
    }

    @Test
    void crdsAmongTheInputsValidateTheirCustomResources(@TempDir Path tmp) throws Exception {
        assertThat(validate("crd").exit()).isZero();
        Files.writeString(tmp.resolve("crd.yaml"), Files.readString(fixtures.resolve("crd/widget-crd.yaml")));
        Files.writeString(tmp.resolve("cr.yaml"), Files.readString(fixtures.resolve("crd/widget-cr.yaml")).replace(
                "size: 3", "size: big"));
        CliProcess.Run run = validate(tmp.toString());
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out()).endsWith("cr.yaml (document 1, line 1) - Widget w is invalid: spec.size: expected"
                + " integer, got string\n");
    }

    @Test
    void skipAndRejectTakeKindsOrApiVersionKinds() {
        CliProcess.Run skipped = validate("-skip", "Deployment", "-summary", "invalid");
        assertThat(skipped.exit()).isZero();
        assertThat(skipped.out()).isEqualTo(
                "Summary: 2 resources found in 1 file - Valid: 1, Invalid: 0, Errors: 0, Skipped: 1\n");
        assertThat(validate("-skip", "apps/v1/Deployment", "invalid").exit()).isZero();
        assertThat(validate("-skip", "extensions/v1beta1/Deployment", "invalid").exit()).isEqualTo(1);

        CliProcess.Run rejected = validate("-reject", "ServiceAccount,Secret", "valid");
        assertThat(rejected.exit()).isEqualTo(1);
        assertThat(rejected.out()).isEqualTo("valid/nested/list.yml (document 1, line 1) - ServiceAccount web failed"
                + " validation: prohibited resource kind ServiceAccount\n");
    }

    @Test
    void kubernetesVersionChoosesTheSchemasAndAnUnknownOneListsTheAvailable() {
        assertThat(validate("ipaddress.yaml").exit()).isZero(); // networking.k8s.io/v1 IPAddress: 1.32 on
        CliProcess.Run old = validate("-kubernetes-version", "1.30", "ipaddress.yaml");
        assertThat(old.exit()).isEqualTo(1);
        assertThat(old.out()).contains("could not find schema for IPAddress (networking.k8s.io/v1)");
        assertThat(validate("-kubernetes-version", "v1.32.3", "ipaddress.yaml").exit()).isZero();

        CliProcess.Run unknown = validate("-kubernetes-version", "1.20", "ipaddress.yaml");
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.out()).isEmpty();
        assertThat(unknown.err()).startsWith("conveyor validate: unknown Kubernetes version \"1.20\"; available: "
                + String.join(", ", dev.conveyor.manifests.domain.schema.BuiltinSchemas.bundledVersions()) + "\n");
    }

    @Test
    void standardInputIsReadForADashOrNoArgument() {
        String stream = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\n"
                + "metadata: {name: p}\nspec: {containers: [{name: c}]}\n";
        for (List<String> args : List.of(List.of("validate", "-"), List.of("validate"))) {
            CliProcess.Run run = CliProcess.run(fixtures, stream, Map.of(), args);
            assertThat(run.exit()).isEqualTo(1);
            assertThat(run.out()).isEqualTo("stdin (document 2, line 5) - Pod p is invalid:"
                    + " spec.containers[0].image: image is required\n");
        }
    }

    @Test
    void jsonOutputCarriesStatusPositionAndEachValidationError() throws Exception {
        CliProcess.Run run = validate("-output", "json", "-summary", "invalid", "canary.yaml");
        assertThat(run.exit()).isEqualTo(1);
        JsonNode root = new ObjectMapper().readTree(run.out());
        assertThat(root.path("resources")).hasSize(2);
        JsonNode broken = root.path("resources").get(0);
        assertThat(broken.path("filename").asText()).isEqualTo("invalid/two-problems.yaml");
        assertThat(broken.path("kind").asText()).isEqualTo("Deployment");
        assertThat(broken.path("name").asText()).isEqualTo("broken");
        assertThat(broken.path("version").asText()).isEqualTo("apps/v1");
        assertThat(broken.path("status").asText()).isEqualTo("statusInvalid");
        assertThat(broken.path("document").asInt()).isEqualTo(2);
        assertThat(broken.path("line").asInt()).isEqualTo(8);
        assertThat(broken.path("validationErrors").findValuesAsText("path")).containsExactly("spec.replicas",
                "spec.template.spec.restartPolicy");
        assertThat(root.path("resources").get(1).path("status").asText()).isEqualTo("statusError");
        assertThat(root.path("summary").toString()).isEqualTo("{\"valid\":1,\"invalid\":1,\"errors\":1,\"skipped\":0}");

        JsonNode verbose = new ObjectMapper().readTree(validate("-output", "json", "-verbose", "valid").out());
        assertThat(verbose.path("resources")).hasSize(5);
        assertThat(verbose.path("resources").findValuesAsText("status")).containsOnly("statusValid");
        assertThat(verbose.has("summary")).isFalse();
    }

    @Test
    void tapOutputHasOneTestPointPerResource() {
        CliProcess.Run run = validate("-output", "tap", "-skip", "Service", "valid/deployment.yaml", "invalid");
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out().lines()).containsExactly("TAP version 13",
                "ok 1 - valid/deployment.yaml (document 1, line 1) (Deployment web)",
                "ok 2 - valid/deployment.yaml (document 2, line 20) (Service web) # SKIP",
                "ok 3 - invalid/two-problems.yaml (document 1, line 1) (ConfigMap fine)",
                "not ok 4 - invalid/two-problems.yaml (document 2, line 8) (Deployment broken) - spec.replicas:"
                        + " expected integer, got string; spec.template.spec.restartPolicy: invalid value"
                        + " \"Sometimes\", expected one of [Always, Never, OnFailure]",
                "1..4");
    }

    @Test
    void junitOutputHasASuitePerFileAndACasePerResource() throws Exception {
        CliProcess.Run run = validate("-output", "junit", "-reject", "ServiceAccount", "valid", "invalid");
        assertThat(run.exit()).isEqualTo(1);
        Document xml = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new ByteArrayInputStream(run
                .out().getBytes(StandardCharsets.UTF_8)));
        Element suites = xml.getDocumentElement();
        assertThat(suites.getTagName()).isEqualTo("testsuites");
        assertThat(suites.getAttribute("tests")).isEqualTo("7");
        assertThat(suites.getAttribute("failures")).isEqualTo("1");
        assertThat(suites.getAttribute("errors")).isEqualTo("1");
        assertThat(xml.getElementsByTagName("testsuite").getLength()).isEqualTo(4);
        assertThat(xml.getElementsByTagName("testcase").getLength()).isEqualTo(7);
        Element failure = (Element) xml.getElementsByTagName("failure").item(0);
        assertThat(((Element) failure.getParentNode()).getAttribute("name")).isEqualTo("Deployment broken");
        assertThat(failure.getAttribute("message")).contains("spec.replicas: expected integer, got string");
        Element error = (Element) xml.getElementsByTagName("error").item(0);
        assertThat(error.getAttribute("message")).isEqualTo("prohibited resource kind ServiceAccount");
    }

    @Test
    void workersDoNotChangeTheResult() {
        CliProcess.Run one = validate("-n", "1", "-verbose", "-summary", ".");
        CliProcess.Run four = validate("-n", "4", "-verbose", "-summary", ".");
        assertThat(one.exit()).isEqualTo(1);
        assertThat(four.exit()).isEqualTo(one.exit());
        assertThat(four.out()).isEqualTo(one.out());
        assertThat(one.out()).contains("Summary: 15 resources found in 11 files");
    }

    @Test
    void ignoreFilenamePatternLeavesFilesOut() {
        CliProcess.Run run = validate("-ignore-filename-pattern", "two-problems", "-summary", "invalid", "valid");
        assertThat(run.exit()).isZero();
        assertThat(run.out()).startsWith("Summary: 5 resources found in 3 files");
    }

    @Test
    void anUnreadableInputExitsThreeAndTheOthersAreStillValidated() {
        CliProcess.Run run = validate("-summary", "no-such-file.yaml", "valid");
        assertThat(run.exit()).isEqualTo(3);
        assertThat(run.err()).isEqualTo("conveyor validate: no-such-file.yaml: no such file or directory\n");
        assertThat(run.out()).startsWith("Summary: 5 resources found in 3 files");
    }

    @Test
    void usageErrorsExitTwo() {
        CliProcess.Run unknownFlag = validate("-colour", "valid");
        assertThat(unknownFlag.exit()).isEqualTo(2);
        assertThat(unknownFlag.err()).isEqualTo("conveyor validate: unknown flag -colour\n"
                + "Run 'conveyor validate --help' for usage.\n");
        assertThat(validate("-output", "xml", "valid").exit()).isEqualTo(2);
        assertThat(validate("-n", "0", "valid").exit()).isEqualTo(2);
        assertThat(validate("-n").exit()).isEqualTo(2);
        CliProcess.Run remote = validate("-schema-location", "https://example.com/{{ .ResourceKind }}.json", "valid");
        assertThat(remote.exit()).isEqualTo(2);
        assertThat(remote.err()).contains("is not a local path");
        assertThat(CliProcess.run(fixtures, List.of()).exit()).isEqualTo(2);
        assertThat(CliProcess.run(fixtures, List.of("frobnicate")).exit()).isEqualTo(2);
    }

    @Test
    void helpIsPrintedOnEachCommand() {
        CliProcess.Run validate = validate("--help");
        assertThat(validate.exit()).isZero();
        assertThat(validate.out()).startsWith("Usage: conveyor validate [flags] [FILE|DIR|-]...").contains("-strict",
                "-ignore-missing-schemas", "-kubernetes-version", "-schema-location", "-skip", "-reject", "-summary",
                "-verbose", "-output", "-n WORKERS");
        assertThat(validate("-h").out()).isEqualTo(validate.out());
        assertThat(CliProcess.run(fixtures, List.of("render", "--help")).out()).startsWith(
                "Usage: conveyor render CHART").contains("--set KEY=VALUE", "-f, --values FILE");
        assertThat(CliProcess.run(fixtures, List.of("diff", "--help")).out()).startsWith(
                "Usage: conveyor diff CHART --base REF [--head REF]");
        CliProcess.Run top = CliProcess.run(fixtures, List.of("--help"));
        assertThat(top.exit()).isZero();
        assertThat(top.out()).contains("validate [FILE|DIR|-]...", "render CHART", "diff CHART --base REF");
    }
}
