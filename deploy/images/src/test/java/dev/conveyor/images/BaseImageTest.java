package dev.conveyor.images;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
}
