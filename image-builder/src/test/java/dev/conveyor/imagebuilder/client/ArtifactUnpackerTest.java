package dev.conveyor.imagebuilder.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
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
    void anUnchangedDependencyIsTakenFromTheStoreWithoutBeingWrittenAgain() throws IOException {
        Path first = Artifacts.fatJar(dir.resolve("a.jar"), "com.example.Main", 2, 2, 4096, 1, 7);
        Path next = Artifacts.fatJar(dir.resolve("b.jar"), "com.example.Main", 2, 2, 4096, 2, 7);
        Path other = Artifacts.fatJar(dir.resolve("c.jar"), "com.example.Main", 2, 2, 4096, 2, 8);
        Path store = dir.resolve("store");
        ArtifactUnpacker unpacker = new ArtifactUnpacker(1 << 20, 100);

        ArtifactUnpacker.ExplodedJar one = unpacker.explodeJar(first, dir.resolve("x"), store);
        Path dependency = file(one, "lib/dep-00.jar");
        assertThat(dependency.getParent()).isEqualTo(store);
        assertThat(file(one, "com/example/C0.class")).startsWith(dir.resolve("x"));
        try (java.util.jar.JarFile jar = new java.util.jar.JarFile(first.toFile())) {
            assertThat(Files.readAllBytes(dependency)).isEqualTo(jar.getInputStream(jar.getEntry("lib/dep-00.jar"))
                    .readAllBytes());
        }
        Object written = Files.readAttributes(dependency, BasicFileAttributes.class).fileKey();

        ArtifactUnpacker.ExplodedJar two = unpacker.explodeJar(next, dir.resolve("y"), store);
        assertThat(file(two, "lib/dep-00.jar")).isEqualTo(dependency);
        assertThat(Files.readAttributes(dependency, BasicFileAttributes.class).fileKey()).as("not written again")
                .isEqualTo(written);
        assertThat(file(unpacker.explodeJar(other, dir.resolve("z"), store), "lib/dep-00.jar"))
                .isNotEqualTo(dependency);

        // A stored file that is not whole is written again, never used.
        Files.write(dependency, new byte[10]);
        unpacker.explodeJar(next, dir.resolve("w"), store);
        assertThat(dependency).hasSize(4096);
        try (var files = Files.list(store)) {
            assertThat(files.map(p -> p.getFileName().toString())).hasSize(4).noneMatch(n -> n.endsWith(".tmp"));
        }
    }

    private static Path file(ArtifactUnpacker.ExplodedJar jar, String name) {
        return jar.files().stream().filter(f -> f.name().equals(name)).findFirst().orElseThrow().file();
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

    @Test
    void aJarWhoseEntryEscapesItsDirectoryIsRefusedNamingTheEntry() throws IOException {
        Path jar = dir.resolve("slip.jar");
        try (java.util.zip.ZipOutputStream zip = new java.util.zip.ZipOutputStream(Files.newOutputStream(jar))) {
            zip.putNextEntry(new java.util.zip.ZipEntry("ok.txt"));
            zip.write("fine".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            zip.putNextEntry(new java.util.zip.ZipEntry("../../escaped.sh"));
            zip.write("echo pwned".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        Path into = dir.resolve("out/x");

        assertThatThrownBy(() -> new ArtifactUnpacker(1 << 20, 100).explodeJar(jar, into)).isInstanceOfSatisfying(
                StageException.class, e -> {
                    assertThat(e.reason()).isEqualTo("ARTIFACT_INVALID");
                    assertThat(e.getMessage()).contains("'../../escaped.sh'").contains("outside its directory");
                });
        assertThat(dir.resolve("escaped.sh")).doesNotExist();
        assertThat(dir.resolve("out/escaped.sh")).doesNotExist();
    }

    @Test
    void aJarEntryThatInflatesAThousandTimesIsRefusedNamingTheEntry() throws IOException {
        Path jar = dir.resolve("bomb.jar");
        byte[] zeros = new byte[1024 * 1024];
        try (java.util.zip.ZipOutputStream zip = new java.util.zip.ZipOutputStream(Files.newOutputStream(jar))) {
            zip.putNextEntry(new java.util.zip.ZipEntry("com/example/Small.class"));
            zip.write(new byte[]{(byte) 0xca, (byte) 0xfe, (byte) 0xba, (byte) 0xbe});
            zip.putNextEntry(new java.util.zip.ZipEntry("lib/bomb.bin"));
            for (int i = 0; i < 64; i++) {
                zip.write(zeros);
            }
        }
        // 64 MiB of zeros in about 64 KiB: about 1000 times.
        assertThat(Files.size(jar)).isLessThan(100 * 1024);
        Path into = dir.resolve("bomb");

        assertThatThrownBy(() -> new ArtifactUnpacker(1L << 30, 100).explodeJar(jar, into)).isInstanceOfSatisfying(
                StageException.class, e -> {
                    assertThat(e.reason()).isEqualTo("ARTIFACT_INVALID");
                    assertThat(e.getMessage()).isEqualTo("the archive entry 'lib/bomb.bin' inflates to more than 200 "
                            + "times its compressed size (an archive bomb)");
                });
        // It stopped early: far less than the 64 MiB was written.
        assertThat(Files.size(into.resolve("lib/bomb.bin"))).isLessThan(16L * 1024 * 1024);
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
