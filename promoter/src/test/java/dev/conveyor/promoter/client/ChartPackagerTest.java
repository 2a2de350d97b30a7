package dev.conveyor.promoter.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.conveyor.stage.StageException;

/** Helm packaging made reproducible: the same chart gives the same digest at any time, a changed one another. */
class ChartPackagerTest {

    @TempDir
    Path dir;

    Path chart(String name, String template) throws Exception {
        Path chart = Files.createDirectories(dir.resolve(name + "-" + System.nanoTime()).resolve("chart"));
        Files.writeString(chart.resolve("Chart.yaml"), "apiVersion: v2\nname: demo\nversion: 0.0.0 # set by CI\n");
        Files.createDirectories(chart.resolve("templates"));
        Files.writeString(chart.resolve("templates/cm.yaml"), template);
        return chart;
    }

    @Test
    void theSameChartPackagesToTheSameBytesAndAChangedOneDoesNot() throws Exception {
        ChartPackager packager = new ChartPackager();
        String template = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n";
        PackagedChart first = packager.packageChart(chart("a", template), "demo", "1.2.3", Files.createDirectories(
                dir.resolve("out-a")));
        PackagedChart second = packager.packageChart(chart("b", template), "demo", "1.2.3", Files
                .createDirectories(dir.resolve("out-b")));
        PackagedChart changed = packager.packageChart(chart("c", template + "data: {a: b}\n"), "demo", "1.2.3",
                Files.createDirectories(dir.resolve("out-c")));

        assertThat(first.fileName()).isEqualTo("demo-1.2.3.tgz");
        assertThat(first.digestHex()).isEqualTo(ChartPackager.sha256(first.file())).isEqualTo(second.digestHex())
                .isNotEqualTo(changed.digestHex());
        assertThat(Files.readAllBytes(first.file())).isEqualTo(Files.readAllBytes(second.file()));
        assertThat(first.metadata()).containsEntry("version", "1.2.3").containsEntry("appVersion", "1.2.3");
    }

    @Test
    void aChartNamedOtherwiseThanTheRunsChartIsRefused() throws Exception {
        assertThatThrownBy(() -> new ChartPackager().packageChart(chart("d", "x: y\n"), "cart", "1.0.0", dir))
                .isInstanceOfSatisfying(StageException.class, e -> assertThat(e.reason()).isEqualTo(
                        "CHART_INVALID"))
                .hasMessageContaining("demo").hasMessageContaining("cart");
    }

    @Test
    void chartPathsThatLeaveTheRepositoryAreRefused() {
        assertThat(ChartSource.normalise("./deploy/chart/")).isEqualTo("deploy/chart");
        for (String bad : new String[]{"../chart", "/etc", "chart/../../x", "a//b", ".git/hooks", ""}) {
            assertThatThrownBy(() -> ChartSource.normalise(bad)).as(bad).isInstanceOfSatisfying(
                    StageException.class, e -> assertThat(e.details()).containsEntry("field", "chartPath"));
        }
    }
}
