package dev.conveyor.imagebuilder.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.conveyor.imagebuilder.client.JibImages;
import dev.conveyor.imagebuilder.client.OciLayout;
import dev.conveyor.imagebuilder.support.TestServices;
import dev.conveyor.stage.warmup.WarmUpResult;
import dev.conveyor.stage.warmup.WarmUps;

/** The warm-up builds a throw-away app's image into a layout in its scratch space and leaves nothing behind. */
class ImageBuilderWarmUpTest {

    @TempDir
    Path tmp;

    @Test
    void buildsAnImageIntoItsScratchLayoutAndLeavesNothing() throws Exception {
        Path scratchRoot = Files.createDirectories(tmp.resolve("scratch"));
        List<Path> layouts = new ArrayList<>();
        ImageBuilderWarmUp warmUp = new ImageBuilderWarmUp(scratch -> {
            layouts.add(scratch.resolve(ImageBuilderWarmUp.LAYOUT));
            return TestServices.under(scratch).registry(OciLayout.PREFIX + scratch.resolve(ImageBuilderWarmUp.LAYOUT))
                    .base(JibImages.DOCKER_ARCHIVE + scratch.resolve(ImageBuilderWarmUp.BASE_TAR)).build();
        });

        WarmUpResult result = new WarmUps(scratchRoot).run("image-builder", List.of(warmUp));

        assertThat(result.failure()).isEmpty();
        assertThat(result.outcome()).isEqualTo(WarmUpResult.Outcome.DONE);
        assertThat(layouts).hasSize(1);
        try (var left = Files.list(scratchRoot)) {
            assertThat(left).as("the scratch app, base image, caches and layout are deleted").isEmpty();
        }
    }
}
