package dev.conveyor.stage.git;

import java.nio.file.Path;
import java.util.Optional;

/**
 * How a stage authenticates to git remotes. Comes from configuration or a mounted Kubernetes Secret, never from an
 * event.
 *
 * @param sshPrivateKey private key file for {@code ssh://} and {@code git@host:path} remotes
 * @param knownHosts known_hosts file the SSH server key is checked against
 * @param strictHostKeyChecking false accepts any server key; only for throwaway environments
 * @param httpsUsername user name sent with the token over HTTPS ({@code x-access-token} for GitHub apps, {@code oauth2}
 *     for GitLab)
 * @param httpsToken token for {@code https://} remotes
 */
public record GitCredentials(
        Optional<Path> sshPrivateKey,
        Optional<Path> knownHosts,
        boolean strictHostKeyChecking,
        String httpsUsername,
        Optional<String> httpsToken) {

    /** No credentials: {@code file://}, {@code git://} and public HTTPS remotes. */
    public static GitCredentials none() {
        return new GitCredentials(Optional.empty(), Optional.empty(), true, "x-access-token", Optional.empty());
    }

    /** Never print the token. */
    @Override
    public String toString() {
        return "GitCredentials[sshPrivateKey=" + sshPrivateKey + ", knownHosts=" + knownHosts
                + ", strictHostKeyChecking=" + strictHostKeyChecking + ", httpsUsername=" + httpsUsername
                + ", httpsToken=" + (httpsToken.isPresent() ? "***" : "none") + "]";
    }
}
