package dev.conveyor.stage.warmup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WarmUpsTest {

    @TempDir
    Path root;

    @Test
    void runsEachWarmUpInAScratchDirectoryThatIsDeletedAfterwards() throws Exception {
        List<Path> seen = new ArrayList<>();
        WarmUp writes = scratch -> {
            seen.add(scratch);
            Files.createDirectories(scratch.resolve("a/b"));
            Files.writeString(scratch.resolve("a/b/file"), "x");
        };

        WarmUpResult result = new WarmUps(root).run("test", List.of(writes, writes));

        assertEquals(WarmUpResult.Outcome.DONE, result.outcome());
        assertEquals(2, seen.size());
        assertFalse(seen.get(0).equals(seen.get(1)), "each warm-up gets its own directory");
        seen.forEach(p -> assertTrue(p.startsWith(root), p + " under the temp root"));
        try (var left = Files.list(root)) {
            assertEquals(List.of(), left.toList(), "nothing left under the temp root");
        }
    }

    @Test
    void aFailureIsReportedWithoutSecretsNeverThrownAndTheScratchIsDeletedAllTheSame() throws Exception {
        WarmUp fails = scratch -> {
            Files.writeString(scratch.resolve("file"), "x");
            throw new IllegalStateException("cannot reach https://user:s3cret@git.example/app.git");
        };

        WarmUpResult result = new WarmUps(root).run("test", List.of(fails));

        assertEquals(WarmUpResult.Outcome.FAILED, result.outcome());
        String failure = result.failure().orElseThrow();
        assertTrue(failure.startsWith("IllegalStateException: cannot reach https://"), failure);
        assertFalse(failure.contains("s3cret"), failure);
        try (var left = Files.list(root)) {
            assertEquals(List.of(), left.toList(), "nothing left under the temp root");
        }
    }
}
