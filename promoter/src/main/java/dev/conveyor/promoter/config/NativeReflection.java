package dev.conveyor.promoter.config;

import dev.conveyor.promoter.client.GitHubPullRequests;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * Reflection registrations for a native image beyond {@code META-INF/native-image} (helm-java and JNA there).
 * {@link GitHubPullRequests.RepoSlug} is built next to the GitHub client's Jackson calls, so the metadata check counts
 * it as possibly bound; registering the small record is cheaper than proving it never is.
 */
@RegisterForReflection(targets = {GitHubPullRequests.RepoSlug.class})
public final class NativeReflection {

    private NativeReflection() {
    }
}
