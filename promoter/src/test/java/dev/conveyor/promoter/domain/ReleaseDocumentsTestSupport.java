package dev.conveyor.promoter.domain;

import java.util.List;

/** Exposes the line diff of {@link ReleaseDocumentsTest} to the integration tests. */
public final class ReleaseDocumentsTestSupport {

    private ReleaseDocumentsTestSupport() {
    }

    /** The lines that differ, as {@code old -> new}; fails when lines were added or removed. */
    public static List<String> changedLines(String before, String after) {
        return ReleaseDocumentsTest.changedLines(before, after);
    }
}
