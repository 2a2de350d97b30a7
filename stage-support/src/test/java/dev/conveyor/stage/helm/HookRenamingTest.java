package dev.conveyor.stage.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The chart copy prepared for rendering hooks: every text file renamed, packaged subcharts unpacked, archives read. */
class HookRenamingTest {

    @TempDir
    Path tmp;

    @Test
    void prepareRenamesTheHookAnnotationInTemplatesValuesAndPackagedSubcharts() throws Exception {
        Path chart = write(tmp.resolve("web"), "Chart.yaml", "apiVersion: v2\nname: web\nversion: 0.1.0\n");
        write(chart, "templates/job.yaml", "metadata:\n  annotations:\n    \"helm.sh/hook\": pre-install\n");
        write(chart, "templates/_helpers.tpl", "{{- define \"w\" }}helm.sh/hook-weight: \"1\"{{ end }}\n");
        byte[] binary = {(byte) 0xff, (byte) 0xfe, 'h', 'e', 'l', 'm', '.', 's', 'h', '/', 'h', 'o', 'o', 'k'};
        Files.write(chart.resolve("logo.bin"), binary);
        Path sub = write(tmp.resolve("pack/db"), "templates/test.yaml", "annotations:\n  helm.sh/hook: test\n");
        write(sub, "Chart.yaml", "apiVersion: v2\nname: db\nversion: 1.0.0\n");
        Files.createDirectories(chart.resolve("charts"));
        tar(tmp.resolve("pack"), "db", chart.resolve("charts/db-1.0.0.tgz"));
        Path values = write(tmp, "values.yaml", "annotations:\n  helm.sh/hook-delete-policy: hook-succeeded\n")
                .resolve("values.yaml");

        HookRenaming.prepare(chart, List.of(values));

        assertThat(chart.resolve("charts/db-1.0.0.tgz")).as("the packaged subchart is unpacked").doesNotExist();
        assertThat(Files.readString(chart.resolve("charts/db/templates/test.yaml"))).isEqualTo("annotations:\n  "
                + HookRenaming.STAND_IN + ": test\n");
        assertThat(Files.readString(chart.resolve("templates/job.yaml"))).contains("\"" + HookRenaming.STAND_IN
                + "\": pre-install");
        assertThat(Files.readString(values)).contains(HookRenaming.STAND_IN + "-delete-policy");
        try (Stream<Path> files = Files.walk(chart)) {
            for (Path f : files.filter(Files::isRegularFile).filter(f -> !f.endsWith("logo.bin")).toList()) {
                assertThat(Files.readString(f)).as(f.toString()).doesNotContain(HookRenaming.PREFIX);
            }
        }
        assertThat(Files.readAllBytes(chart.resolve("logo.bin"))).as("a binary file is left as it is")
                .isEqualTo(binary);
        String rendered = Files.readString(chart.resolve("templates/job.yaml"));
        assertThat(HookRenaming.restore(rendered)).isEqualTo(
                "metadata:\n  annotations:\n    \"helm.sh/hook\": pre-install\n");
        assertThat(HookRenaming.restore(HookRenaming.rename("helm.sh/hook-weight=5"))).isEqualTo(
                "helm.sh/hook-weight=5");
        assertThat(HookRenaming.restore(null)).isNull();
    }

    @Test
    void aChartThatAlreadyHoldsTheStandInIsRefusedNamingTheFile() throws Exception {
        Path chart = write(tmp.resolve("odd"), "templates/cm.yaml", "a: " + HookRenaming.STAND_IN + "\n");

        assertThatThrownBy(() -> HookRenaming.prepare(chart, List.of())).isInstanceOf(HookRenaming.Refused.class)
                .hasMessageContaining("cm.yaml contains " + HookRenaming.STAND_IN);
    }

    @Test
    void aChartArchiveUnpacksToItsDirectory() throws Exception {
        Path src = write(tmp.resolve("src/web"), "Chart.yaml", "apiVersion: v2\nname: web\nversion: 0.2.0\n");
        write(src, "templates/pod.yaml", "helm.sh/hook: test\n");
        Path archive = tmp.resolve("web-0.2.0.tgz");
        tar(tmp.resolve("src"), "web", archive);
        Path into = Files.createDirectories(tmp.resolve("out"));

        Path chart = HookRenaming.unpackChart(archive, into);

        assertThat(chart).isEqualTo(into.resolve("web"));
        assertThat(Files.readString(chart.resolve("templates/pod.yaml"))).isEqualTo("helm.sh/hook: test\n");
    }

    @Test
    void anArchiveWithAPathOutsideItselfIsRefused() throws Exception {
        Path base = Files.createDirectories(tmp.resolve("evil/inner"));
        write(tmp.resolve("evil"), "escape.yaml", "x: 1\n");
        Path archive = tmp.resolve("evil.tgz");
        // -P keeps the leading ../ that tar would strip
        run(base, "tar", "czPf", archive.toString(), "../escape.yaml");
        Path into = Files.createDirectories(tmp.resolve("unpacked"));

        assertThatThrownBy(() -> HookRenaming.unpackChart(archive, into)).isInstanceOf(HookRenaming.Refused.class)
                .hasMessageContaining("outside itself");
        assertThat(tmp.resolve("escape.yaml")).doesNotExist();
    }

    private static Path write(Path dir, String name, String text) throws IOException {
        Path file = dir.resolve(name);
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
        return dir;
    }

    private static void tar(Path dir, String entry, Path archive) throws Exception {
        run(dir, "tar", "czf", archive.toString(), entry);
    }

    private static void run(Path dir, String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
    }
}
