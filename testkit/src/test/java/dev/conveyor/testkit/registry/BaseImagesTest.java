package dev.conveyor.testkit.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.conveyor.testkit.TempDirs;

class BaseImagesTest {

    private Path dir;

    @BeforeEach
    void createDir() {
        dir = TempDirs.create("base-images-test");
    }

    @AfterEach
    void deleteDir() {
        TempDirs.deleteQuietly(dir);
    }

    @Test
    void tarImageIsReproducible() {
        String first = BaseImages.seedTar(dir.resolve("first.tar"));
        String second = BaseImages.seedTar(dir.resolve("second.tar"));

        assertThat(first).startsWith("sha256:").isEqualTo(second);
        assertThat(dir.resolve("first.tar")).exists().isNotEmptyFile();
    }

    @Test
    void tarsAreByteIdentical() throws Exception {
        BaseImages.seedTar(dir.resolve("a.tar"));
        BaseImages.seedTar(dir.resolve("b.tar"));

        assertThat(Files.mismatch(dir.resolve("a.tar"), dir.resolve("b.tar"))).isEqualTo(-1L);
    }

    @Test
    void baseHasNonrootUser() {
        assertThat(BaseImages.contents().get("/etc/passwd")).contains("nonroot:x:65532:65532:");
        assertThat(BaseImages.contents().get("/etc/group")).contains("nonroot:x:65532:");
        assertThat(BaseImages.contents().get("/etc/os-release")).contains("Conveyor test base");
    }
}
