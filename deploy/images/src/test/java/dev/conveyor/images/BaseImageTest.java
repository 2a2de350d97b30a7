package dev.conveyor.images;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.TarImage;

class BaseImageTest {

    @Test
    void etcFilesDeclareUser185AndResolveLocalhostFromFiles() {
        var files = BaseImage.etcFiles("25.0.3+9-LTS");
        assertThat(files.get("/etc/passwd")).contains("default:x:185:185:");
        assertThat(files.get("/etc/group")).contains("default:x:185:");
        assertThat(files.get("/etc/hosts")).contains("127.0.0.1 localhost");
        assertThat(files.get("/etc/nsswitch.conf")).contains("hosts: files dns");
        assertThat(files.get("/etc/os-release")).contains("VERSION_ID=\"25.0.3+9-LTS\"");
    }

    @Test
    void theJdkGoesInWithoutWhatOnlyADeveloperUses(@TempDir Path jdk) throws Exception {
        for (String file : new String[]{"release", "bin/java", "lib/modules", "lib/src.zip", "lib/ct.sym",
                "include/jni.h", "man/man1/java.1", "jmods/java.base.jmod"}) {
            Files.createDirectories(jdk.resolve(file).getParent());
            Files.writeString(jdk.resolve(file), file);
        }
        Files.writeString(jdk.resolve("release"), "JAVA_VERSION=\"25.0.3\"\nJAVA_RUNTIME_VERSION=\"25.0.3+9-LTS\"\n");
        assertThat(BaseImage.jdkFiles(jdk).stream().map(p -> jdk.relativize(p).toString())).containsExactly("bin",
                "bin/java", "lib", "lib/modules", "release");
        assertThat(BaseImage.jdkVersion(jdk)).isEqualTo("25.0.3+9-LTS");
    }

    @Test
    void theSameJdkGivesTheSameDigestWhateverTheSourceFilesTimesAndUmask(@TempDir Path dir) throws Exception {
        Path jdk = Files.createDirectories(dir.resolve("jdk"));
        Files.createDirectories(jdk.resolve("bin"));
        Files.createDirectories(jdk.resolve("lib"));
        // A real dynamically linked executable, so that the libs layer is not empty.
        Files.copy(Path.of("/usr/bin/true"), jdk.resolve("bin/java"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.writeString(jdk.resolve("lib/modules"), "modules");
        Files.writeString(jdk.resolve("release"), "JAVA_RUNTIME_VERSION=\"25.0.3+9-LTS\"\n");

        String first = build(jdk, dir.resolve("one"));
        Files.setLastModifiedTime(jdk.resolve("lib/modules"), FileTime.from(Instant.parse("2001-02-03T04:05:06Z")));
        Files.setPosixFilePermissions(jdk.resolve("lib/modules"), PosixFilePermissions.fromString("rw-------"));
        Files.setLastModifiedTime(jdk.resolve("bin/java"), FileTime.from(Instant.now()));
        String second = build(jdk, dir.resolve("two"));

        assertThat(second).isEqualTo(first);
    }

    private static String build(Path jdk, Path work) throws Exception {
        Path scratch = Files.createDirectories(work.resolve("files"));
        return BaseImage.builder(jdk, List.of(), scratch).containerize(Containerizer.to(TarImage.at(work.resolve(
                "image.tar")).named("conveyor/jdk-base:test")).setBaseImageLayersCache(work.resolve("base-cache"))
                .setApplicationLayersCache(work.resolve("app-cache"))).getDigest().toString();
    }
}
