package dev.conveyor.fluxsync.service;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

import dev.conveyor.fluxsync.domain.DesiredState;
import dev.conveyor.fluxsync.domain.Inventory;
import dev.conveyor.fluxsync.domain.Manifest;

/**
 * What the reconciler remembers of one repository between its syncs (in this process). The maps the releases of a
 * sync read and write are concurrent: the releases of one sync run on several threads at once.
 */
final class RepoState {
    final ReentrantLock lock = new ReentrantLock();
    /** Throws {@link RepoOwnership.Lost} when this replica does not own the repository: run before every write. */
    volatile Runnable fence = () -> {
    };
    /** The revision applied last. */
    String revision;
    /**
     * The plan of the revision synced last and what it was made of (revision, URL, branch, path), kept only when no
     * file of the revision is SOPS-encrypted: a no-op sync of the same revision does not read the layout again.
     */
    Planner.Plan plan;
    String planKey;
    /** Syncs of the repository in this process: orders their reports. */
    long syncs;
    Inventory inventory;
    /** The {@code skipped} key last written to the inventory ConfigMap. */
    String skippedSaved = "";
    /** What the last synced revision holds but is not applied ({@code DesiredState.skipped()}). */
    volatile List<DesiredState.Skipped> skipped = List.of();
    /** The revision whose skipped files were last logged at info (once per revision). */
    String skippedLogged;
    /** Rendered YAML by render key. */
    final Map<String, String> renders = new ConcurrentHashMap<>();

    /**
     * A rendering read into objects: the rendered YAML it was read from, the objects (never changed after), the hooks
     * not run and the manifest without hooks.
     */
    record Parsed(String yaml, List<Manifest> manifests, List<String> hooks,
            String withoutHooks) {
    }

    /** The objects as last applied (labelled, hashed), by owner and object: see {@link Applier.LiveObjects}. */
    final Map<String, Applier.Prepared> prepared = new ConcurrentHashMap<>();
    /** Renderings read into objects, by render key and release owner. */
    final Map<String, Parsed> parsed = new ConcurrentHashMap<>();
    /** Render key last recorded in Helm's storage, per release owner. */
    final Map<String, String> helmRecorded = new ConcurrentHashMap<>();
    /** Release owners that have Helm records. */
    final Set<String> helmOwners = ConcurrentHashMap.newKeySet();
    boolean helmChecked;
    /** Render keys that failed and were rolled back, per release owner: not applied again until git changes. */
    final Map<String, String> rolledBack = new ConcurrentHashMap<>();
    /**
     * Render key whose workloads were last seen ready, per release owner: an unchanged release is only reported
     * healthy without a check when its render is in here; any other is checked again on every sync.
     */
    final Map<String, String> healthy = new ConcurrentHashMap<>();
    /** Rollout waits running off the sync, per release owner. */
    final Map<String, CompletableFuture<ReleaseResult>> pendingHealth = new ConcurrentHashMap<>();
    /** What each wait of {@link #pendingHealth} waits for, per release owner. */
    final Map<String, RepoReconciler.PendingWait> pendingWaits = new ConcurrentHashMap<>();
    /** The release conditions last written, per release id. */
    final Map<String, ReleaseConditions> conditions = new ConcurrentHashMap<>();
    /** Owners whose objects hold values decrypted from SOPS: API and Helm messages about them are withheld. */
    volatile Set<String> sensitiveOwners = Set.of();
}
