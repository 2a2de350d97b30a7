package dev.conveyor.stage.git;

import java.nio.file.Path;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * Git credentials shared by every stage that talks to git remotes ({@code conveyor.git.*}). Mount the SSH key and the
 * token from a Kubernetes Secret; they are never logged.
 */
@ConfigMapping(prefix = "conveyor.git")
public interface GitConfig {

    /** SSH settings for {@code ssh://} remotes. */
    Ssh ssh();

    /** HTTPS settings for {@code https://} remotes. */
    Https https();

    interface Ssh {
        /** Path of the private key (OpenSSH format; ed25519, ECDSA or RSA). */
        Optional<Path> privateKey();

        /** Path of the known_hosts file the server keys are checked against. */
        Optional<Path> knownHosts();

        /** Whether an unknown or changed server key is refused. Turn off only for throwaway environments. */
        @WithDefault("true")
        boolean strictHostKeyChecking();
    }

    interface Https {
        /** User name sent with the token: {@code x-access-token} (GitHub), {@code oauth2} (GitLab). */
        @WithDefault("x-access-token")
        String username();

        /** The token. */
        Optional<String> token();
    }

    /** These settings as credentials for {@link GitAccess}. */
    default GitCredentials toCredentials() {
        return new GitCredentials(ssh().privateKey(), ssh().knownHosts(), ssh().strictHostKeyChecking(),
                https().username(), https().token());
    }
}
