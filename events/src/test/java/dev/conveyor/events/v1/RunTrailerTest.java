package dev.conveyor.events.v1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

class RunTrailerTest {

    private static final String RUN = "r-0123456789abcdef01234567";
    private static final String OTHER = "r-89abcdef0123456789abcdef";

    @Test
    void whatIsWrittenIsReadBack() {
        String message = "promote shop 1.2.3\n\n" + RunTrailer.of(RUN) + "\n";
        assertThat(RunTrailer.of(RUN)).isEqualTo("Conveyor-Run: " + RUN);
        assertThat(RunTrailer.parse(message)).containsExactly(RUN);
    }

    @Test
    void readsEveryTrailerInOrderOnceAndOnlyWholeLines() {
        String message = "subject mentions Conveyor-Run: " + OTHER + "\n\nConveyor-Run: " + RUN
                + "\nConveyor-Run:\t" + OTHER + "  \nConveyor-Run: " + RUN + "\nConveyor-Run: r-short\n";
        assertThat(RunTrailer.parse(message)).containsExactly(RUN, OTHER);
        assertThat(RunTrailer.parse(List.of("a\n\n" + RunTrailer.of(OTHER), "b\n\n" + RunTrailer.of(RUN),
                "c\n\n" + RunTrailer.of(OTHER)))).containsExactly(OTHER, RUN);
        assertThat(RunTrailer.parse((String) null)).isEmpty();
    }

    @Test
    void aMissingRunIdIsRefused() {
        assertThatThrownBy(() -> RunTrailer.of(null)).hasMessageContaining("runId");
    }
}
