package dev.conveyor.fluxsync.service;

import java.time.Duration;

/**
 * One GitOps repository an instance keeps the cluster equal to.
 *
 * @param name short name: label value on every object it owns, key of its inventory
 * @param url the remote (credentials never in it; they come from configuration)
 * @param branch the branch synced
 * @param path directory of the repository that holds the layout, empty for the root
 * @param interval how often it is fetched and drift is corrected
 * @param prune whether objects removed from git are deleted
 * @param suspended a suspended repository is neither fetched nor applied
 */
public record RepoSpec(String name, String url, String branch, String path, Duration interval, boolean prune,
        boolean suspended) {

    public RepoSpec {
        if (!name.matches("[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?")) {
            throw new IllegalArgumentException("conveyor.flux-sync.repos." + name
                    + ": the name must be lower-case letters, digits and dashes, at most 42 characters");
        }
    }

    public RepoSpec withSuspended(boolean value) {
        return new RepoSpec(name, url, branch, path, interval, prune, value);
    }
}
