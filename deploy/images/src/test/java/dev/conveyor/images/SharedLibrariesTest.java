package dev.conveyor.images;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

class SharedLibrariesTest {

    private static final Path JDK = Path.of("/usr/lib/jvm/jdk");

    @Test
    void keepsResolvedLibrariesAndTheInterpreterButNotTheJdksOwn() {
        String ldd = """
                \tlinux-vdso.so.1 (0x00007ffd5d1f2000)
                \tlibjli.so => /usr/lib/jvm/jdk/bin/../lib/libjli.so (0x00007f73d70be000)
                \tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x00007f73d70a0000)
                \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f73d6ed2000)
                \t/lib64/ld-linux-x86-64.so.2 (0x00007f73d70ea000)
                """;
        assertThat(SharedLibraries.parse(ldd, "java", JDK)).containsExactly("/lib/x86_64-linux-gnu/libc.so.6",
                "/lib/x86_64-linux-gnu/libz.so.1", "/lib64/ld-linux-x86-64.so.2");
    }

    @Test
    void aMissingLibraryIsAnErrorNamingIt() {
        String ldd = "\tlibasound.so.2 => not found\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1)\n";
        assertThatThrownBy(() -> SharedLibraries.parse(ldd, "libjsound.so", JDK)).hasMessageContaining(
                "libjsound.so needs libasound.so.2");
    }

    @Test
    void aStaticExecutableNeedsNothing() {
        assertThat(SharedLibraries.parse("\tnot a dynamic executable\n", "busybox", JDK)).isEmpty();
    }
}
