package dev.conveyor.imagebuilder.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.conveyor.imagebuilder.support.Artifacts;
import dev.conveyor.stage.StageException;

class ArtifactUnpackerTest {

    @TempDir
    Path dir;

    @Test
    void aJarIsExplodedWithItsMainClass() {
        Path jar = Artifacts.fatJar(dir.resolve("a.jar"), "com.example.Main", 2, 2, 16, 1);

        ArtifactUnpacker.ExplodedJar exploded = new ArtifactUnpacker(1 << 20, 100).explodeJar(jar, dir.resolve("x"));

        assertThat(exploded.mainClass()).contains("com.example.Main");
        assertThat(exploded.names()).containsExactly("META-INF/MANIFEST.MF", "com/example/C0.class",
                "com/example/C1.class", "lib/dep-00.jar", "lib/dep-01.jar");
        assertThat(dir.resolve("x/lib/dep-01.jar")).hasSize(16);
    }

    @Test
    void aTarKeepsModesAndRefusesEscapesLinksAndBombs() throws IOException {
        Path tgz = Artifacts.tarGz(dir.resolve("a.tgz"), Map.of("bin/run", "#!/bin/sh", "./data/x.txt", "x"));
        ArtifactUnpacker unpacker = new ArtifactUnpacker(1 << 20, 100);

        var files = unpacker.unpackTar(tgz, dir.resolve("x"));
        assertThat(files).extracting(ArtifactUnpacker.UnpackedFile::name).containsExactly("bin/run", "data/x.txt");
        assertThat(files.get(0).mode()).isEqualTo(0755);
        assertThat(files.get(1).mode()).isEqualTo(0644);

        assertInvalid(unpacker, entry(dir.resolve("escape.tgz"), "../evil", TarArchiveEntry.LF_NORMAL),
                "outside its directory");
        assertInvalid(unpacker, entry(dir.resolve("link.tgz"), "link", TarArchiveEntry.LF_SYMLINK), "link");
        assertInvalid(new ArtifactUnpacker(3, 100), tgz, "more than 3 bytes");
        assertInvalid(new ArtifactUnpacker(1 << 20, 1), tgz, "more than 1 files");
        assertInvalid(unpacker, Files.writeString(dir.resolve("junk.tgz"), "not a tar at all, not even close"),
                "tar");
        assertThatThrownBy(() -> unpacker.explodeJar(tgz, dir.resolve("y"))).isInstanceOfSatisfying(
                StageException.class, e -> assertThat(e.reason()).isEqualTo("ARTIFACT_INVALID"));
    }

    private static void assertInvalid(ArtifactUnpacker unpacker, Path archive, String message) {
        assertThatThrownBy(() -> unpacker.unpackTar(archive, archive.resolveSibling("out-" + archive.getFileName())))
                .isInstanceOfSatisfying(StageException.class, e -> {
                    assertThat(e.reason()).isEqualTo("ARTIFACT_INVALID");
                    assertThat(e.getMessage()).contains(message);
                });
    }

    private static Path entry(Path file, String name, byte type) throws IOException {
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file));
                TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
            TarArchiveEntry entry = new TarArchiveEntry(name, type);
            if (type == TarArchiveEntry.LF_SYMLINK) {
                entry.setLinkName("/etc/passwd");
            } else {
                entry.setSize(1);
            }
            tar.putArchiveEntry(entry);
            if (type != TarArchiveEntry.LF_SYMLINK) {
                tar.write('x');
            }
            tar.closeArchiveEntry();
        }
        return file;
    }
}
