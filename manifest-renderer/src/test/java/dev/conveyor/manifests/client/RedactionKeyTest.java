package dev.conveyor.manifests.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RedactionKeyTest {

    @TempDir
    Path tmp;

    @Test
    void aGeneratedKeyIsKeptAndReused() throws Exception {
        Path file = tmp.resolve("mirrors/redaction.key");

        byte[] first = RedactionKey.load(Optional.empty(), file);
        byte[] second = RedactionKey.load(Optional.empty(), file);

        assertThat(first).hasSize(64).isEqualTo(second);
        assertThat(Files.readString(file).strip()).matches("[0-9a-f]{64}");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        try (var left = Files.list(file.getParent())) {
            assertThat(left).containsExactly(file);
        }
        assertThat(RedactionKey.load(Optional.empty(), tmp.resolve("elsewhere/redaction.key"))).isNotEqualTo(first);
        assertThat(RedactionKey.load(Optional.of(Files.readString(file)), tmp.resolve("unused")))
                .as("the file's content works as the configured key").isEqualTo(first);
    }

    @Test
    void aConfiguredKeyWinsAndMustBeLongEnough() {
        assertThat(RedactionKey.load(Optional.of("a configured key, long enough"), tmp.resolve("k"))).isEqualTo(
                "a configured key, long enough".getBytes(StandardCharsets.UTF_8));
        assertThat(tmp.resolve("k")).doesNotExist();
        assertThatThrownBy(() -> RedactionKey.load(Optional.of("tiny-secret"), tmp.resolve("k")))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("at least 16 characters")
                .hasMessageNotContaining("tiny-secret");
    }
}
