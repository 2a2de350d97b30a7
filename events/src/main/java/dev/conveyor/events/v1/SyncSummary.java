package dev.conveyor.events.v1;

/**
 * What a sync did to the cluster's objects.
 *
 * @param created objects that did not exist and were created
 * @param updated objects that differed from git (including drift) and were updated
 * @param unchanged objects that already matched git
 * @param pruned objects removed from git and deleted from the cluster
 */
public record SyncSummary(int created, int updated, int unchanged, int pruned) {

    public SyncSummary {
        Checks.atLeast(created, 0, "created");
        Checks.atLeast(updated, 0, "updated");
        Checks.atLeast(unchanged, 0, "unchanged");
        Checks.atLeast(pruned, 0, "pruned");
    }
}
