package dev.conveyor.imagebuilder.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

class JarLayoutTest {

    @Test
    void theClassPathHoldsTheAppAndEveryDirectoryOfNestedJars() {
        assertThat(JarLayout.entrypoint("/app", List.of("META-INF/MANIFEST.MF", "com/x/Main.class", "lib/a.jar",
                "lib/b.JAR", "extra/c.jar"), Optional.of("com.x.Main")))
                .containsExactly("java", "-cp", "/app:/app/extra/*:/app/lib/*", "com.x.Main");
        assertThat(JarLayout.entrypoint("/app", List.of("Main.class"), Optional.of("Main")))
                .containsExactly("java", "-cp", "/app", "Main");
    }

    @Test
    void springBootLaunchersFindTheirOwnJars() {
        assertThat(JarLayout.entrypoint("/app", List.of("BOOT-INF/lib/a.jar"),
                Optional.of("org.springframework.boot.loader.launch.JarLauncher")))
                .containsExactly("java", "-cp", "/app", "org.springframework.boot.loader.launch.JarLauncher");
    }

    @Test
    void aJarWithoutMainClassNeedsAnEntrypoint() {
        assertThatThrownBy(() -> JarLayout.entrypoint("/app", List.of(), Optional.empty()))
                .hasMessageContaining("image.entrypoint");
    }

    @Test
    void entriesThatLeaveTheirDirectoryAreUnsafe() {
        assertThat(JarLayout.isSafeEntryName("lib/a.jar")).isTrue();
        assertThat(JarLayout.isSafeEntryName("a..b/c")).isTrue();
        assertThat(JarLayout.isSafeEntryName("../etc/passwd")).isFalse();
        assertThat(JarLayout.isSafeEntryName("lib/../../x")).isFalse();
        assertThat(JarLayout.isSafeEntryName("/etc/passwd")).isFalse();
        assertThat(JarLayout.isSafeEntryName("a\\..\\b")).isFalse();
        assertThat(JarLayout.isSafeEntryName("")).isFalse();
    }
}
