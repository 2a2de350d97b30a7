package dev.conveyor.stage.git;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * The one {@link GitAccess} of a service, built from {@code conveyor.git.*} and closed at shutdown. A CDI bean for
 * every Quarkus service that depends on this module (the jar carries a Jandex index, so Quarkus discovers it).
 */
@ApplicationScoped
public class GitAccessProducer {

    @Produces
    @Singleton
    GitAccess gitAccess(GitConfig git) {
        return GitAccess.create(git.toCredentials());
    }

    void close(@Disposes GitAccess access) {
        access.close();
    }
}
