package dev.conveyor.manifests.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line's chart copy refuses a huge file by its size, before reading a byte of it. */
class ChartRunCopyTest {

    @TempDir
    Path tmp;

    @Test
    void aSparseOneGibFileIsRefusedByItsSizeNamingIt() throws Exception {
        Path chart = Files.createDirectories(tmp.resolve("chart/files"));
        Files.writeString(tmp.resolve("chart/Chart.yaml"), "apiVersion: v2\nname: big\nversion: 0.1.0\n");
        try (RandomAccessFile big = new RandomAccessFile(chart.resolve("huge.bin").toFile(), "rw")) {
            big.setLength(1L << 30); // sparse: no block written
        }
        Path target = tmp.resolve("copy");

        assertThatThrownBy(() -> ChartRun.copy(tmp.resolve("chart"), target)).isInstanceOf(
                ChartRun.RenderFailure.class).hasMessageContaining("files/huge.bin is larger than 4194304 bytes");
        assertThat(target.resolve("files/huge.bin")).doesNotExist();
    }
}
