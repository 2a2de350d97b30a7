package dev.conveyor.fluxsync.service;

import dev.conveyor.testkit.git.RepoWriter;

/** {@link SeedRepo} for tests of other packages. */
public final class SeedRepoAccess {

    private SeedRepoAccess() {
    }

    public static RepoWriter chart(RepoWriter w) {
        return SeedRepo.chart(w);
    }
}
