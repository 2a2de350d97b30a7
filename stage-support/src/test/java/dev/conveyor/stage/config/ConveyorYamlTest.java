package dev.conveyor.stage.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;

import org.junit.jupiter.api.Test;

class ConveyorYamlTest {

    @Test
    void readsSectionsListsAndStrings() {
        ConveyorYaml yaml = ConveyorYaml.parse("""
                version:
                  strategy: file
                  file: VERSION
                apps:
                  - name: api
                    path: api/
                slack:
                  channel: "#shop"
                """);
        assertThat(yaml.section("version").string("strategy")).contains("file");
        assertThat(yaml.root().list("apps")).singleElement()
                .satisfies(app -> assertThat(app.string("path")).contains("api/"));
        assertThat(yaml.section("image").isPresent()).isFalse();
    }

    @Test
    void stringListsAndStringMapsNameTheirBadEntries() {
        ConveyorYaml.Section image = ConveyorYaml.parse("""
                image:
                  ports: [8080, "53/udp"]
                  env: {A: x, B: 2, C: }
                  entrypoint: java -jar app.jar
                  bad: [a, [b]]
                  badEnv: {A: [x]}
                """).section("image");
        assertThat(image.strings("ports")).containsExactly("8080", "53/udp");
        assertThat(image.stringMap("env")).containsExactly(java.util.Map.entry("A", "x"), java.util.Map.entry("B", "2"),
                java.util.Map.entry("C", ""));
        assertThat(image.isScalar("entrypoint")).isTrue();
        assertThat(image.isScalar("ports")).isFalse();
        assertThat(image.strings("missing")).isEmpty();
        assertThatThrownBy(() -> image.strings("bad")).hasMessage("image.bad[1] must be a string");
        assertThatThrownBy(() -> image.strings("entrypoint")).hasMessage("image.entrypoint must be a list");
        assertThatThrownBy(() -> image.stringMap("badEnv")).hasMessage("image.badEnv.A must be a string");
        assertThatThrownBy(() -> image.stringMap("ports"))
                .hasMessage("image.ports must be a mapping of names to values");
    }

    @Test
    void emptyFilesAreEmptyConfigurations() {
        assertThat(ConveyorYaml.parse("").section("version").isPresent()).isFalse();
        assertThat(ConveyorYaml.parse("# only a comment\n").section("version").isPresent()).isFalse();
    }

    @Test
    void errorsNameTheField() {
        ConveyorYaml yaml = ConveyorYaml.parse("""
                version:
                  strategy: [tags]
                  tagprefix: v
                apps:
                  - name: api
                  - oops
                """);
        assertThatThrownBy(() -> yaml.section("version").allowOnly(Set.of("strategy", "tagPrefix")))
                .isInstanceOfSatisfying(InvalidConfigException.class,
                        e -> assertThat(e.field()).isEqualTo("version.tagprefix"))
                .hasMessageContaining("unknown field version.tagprefix");
        assertThatThrownBy(() -> yaml.section("version").string("strategy"))
                .hasMessage("version.strategy must be a string");
        assertThatThrownBy(() -> yaml.root().list("apps")).hasMessage("apps[1] must be a mapping");
    }

    @Test
    void hostileYamlIsRefused() {
        StringBuilder bomb = new StringBuilder("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for (char c = 'b'; c <= 'z'; c++) {
            char prev = (char) (c - 1);
            bomb.append(c).append(": &").append(c).append(" [*").append(prev).append(", *").append(prev)
                    .append(", *").append(prev).append(", *").append(prev).append(", *").append(prev).append("]\n");
        }
        assertThatThrownBy(() -> ConveyorYaml.parse(bomb.toString())).isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("not valid YAML");
        assertThatThrownBy(() -> ConveyorYaml.parse("version: {a: 1}\nversion: {b: 2}\n"))
                .isInstanceOf(InvalidConfigException.class);
        assertThatThrownBy(() -> ConveyorYaml.parse("- a\n- b\n")).hasMessageContaining("must be a mapping");
        assertThatThrownBy(() -> ConveyorYaml.parse("x: \"" + "y".repeat(ConveyorYaml.MAX_BYTES) + "\""))
                .hasMessageContaining("larger than");
    }

    @Test
    void aliasBombsDeepNestingAndHugeScalarsAreRefusedNamingTheFile() {
        StringBuilder bomb = new StringBuilder("a: &a [\"lol\", \"lol\"]\n");
        for (int i = 1; i < 30; i++) {
            bomb.append("a").append(i).append(": &a").append(i).append(" [*a").append(i == 1 ? "" : i - 1)
                    .append(", *a").append(i == 1 ? "" : i - 1).append("]\n");
        }
        assertThatThrownBy(() -> ConveyorYaml.parse(bomb.toString())).isInstanceOfSatisfying(
                InvalidConfigException.class, e -> {
                    assertThat(e.field()).isEqualTo(ConveyorYaml.FILE_NAME);
                    assertThat(e.getMessage()).startsWith(".conveyor.yaml is not valid YAML").containsIgnoringCase(
                            "aliases");
                });
        String deep = "x: " + "[".repeat(100) + "]".repeat(100) + "\n";
        assertThatThrownBy(() -> ConveyorYaml.parse(deep)).isInstanceOfSatisfying(InvalidConfigException.class,
                e -> assertThat(e.getMessage()).startsWith(".conveyor.yaml is not valid YAML").containsIgnoringCase(
                        "nesting"));
    }

    @Test
    void aHugeFileIsRefusedBySizeBeforeItIsRead(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path huge = dir.resolve(".conveyor.yaml");
        try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(huge.toFile(), "rw")) {
            // Sparse: 1 GiB long, no block written, so only a size check can be this quick.
            file.setLength(1L << 30);
        }
        long started = System.nanoTime();
        assertThatThrownBy(() -> ConveyorYaml.read(huge)).isInstanceOfSatisfying(InvalidConfigException.class,
                e -> {
                    assertThat(e.field()).isEqualTo(ConveyorYaml.FILE_NAME);
                    assertThat(e.getMessage()).isEqualTo(".conveyor.yaml is larger than " + ConveyorYaml.MAX_BYTES
                            + " bytes (1073741824 bytes)");
                });
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - started)).isLessThan(java.time.Duration
                .ofSeconds(1));
    }

    @Test
    void pathKeysMayNotLeaveTheRepository() {
        ConveyorYaml yaml = ConveyorYaml.parse("""
                version: {file: ../../etc/passwd}
                a: {file: /etc/passwd}
                b: {file: sub/../../x}
                c: {file: "a\\\\..\\\\b"}
                d: {file: charts/app/Chart.yaml}
                e: {file: "my..file"}
                """);
        assertThatThrownBy(() -> yaml.section("version").relativePath("file")).isInstanceOfSatisfying(
                InvalidConfigException.class, e -> assertThat(e.field()).isEqualTo("version.file"));
        assertThatThrownBy(() -> yaml.section("a").relativePath("file")).hasMessageStartingWith("a.file must be");
        assertThatThrownBy(() -> yaml.section("b").relativePath("file")).hasMessageStartingWith("b.file must be");
        assertThatThrownBy(() -> yaml.section("c").relativePath("file")).hasMessageStartingWith("c.file must be");
        assertThat(yaml.section("d").relativePath("file")).contains("charts/app/Chart.yaml");
        assertThat(yaml.section("e").relativePath("file")).contains("my..file");
    }
}
