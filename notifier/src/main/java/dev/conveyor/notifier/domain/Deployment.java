package dev.conveyor.notifier.domain;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * A release of the run promoted into a GitOps repository, and whether that repository has been synced with it.
 *
 * @param gitopsRepo the GitOps repository
 * @param environment environment name, {@code gitopsRepo} when the promotion was not seen
 * @param namespace target namespace, may be empty
 * @param release release name, may be empty
 * @param chartVersion chart version promoted, may be empty
 * @param revision the synced revision, {@code null} until a {@code RepoSynced} lists the run
 */
@RegisterForReflection
public record Deployment(String gitopsRepo, String environment, String namespace, String release,
        String chartVersion, String revision) {

    public boolean synced() {
        return revision != null;
    }

    public Deployment syncedAt(String rev) {
        return new Deployment(gitopsRepo, environment, namespace, release, chartVersion, rev);
    }
}
